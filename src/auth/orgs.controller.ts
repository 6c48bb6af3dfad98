import { Body, Controller, Delete, Get, HttpCode, Patch } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { CurrentUser, MinLevel } from './auth.decorators';
import type { AuthenticatedUser } from './authenticated-user';
import { OrgsService } from './orgs.service';
import { CreateOrgDto } from './users.dto';
import { orgView, userView } from './users.service';
import { OrgView, UserListView } from './users.view';

@ApiTags('Users')
@Controller('api/orgs')
export class OrgsController {
  constructor(private readonly orgs: OrgsService) {}

  @Get(':id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Get an organisation', description: 'Your own; an admin any.' })
  @ApiOkResponse({ type: OrgView })
  @ApiErrors('not_found')
  async get(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<OrgView> {
    return orgView(await this.orgs.findVisible(caller, id));
  }

  @Get(':id/members')
  @MinLevel('lead')
  @ApiOperation({ summary: "List an organisation's users", description: 'A lead its own; an admin any.' })
  @ApiOkResponse({ type: UserListView })
  @ApiErrors('not_found')
  async members(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<UserListView> {
    return { users: (await this.orgs.members(caller, id)).map(userView) };
  }

  @Patch(':id')
  @ApiOperation({ summary: 'Rename an organisation' })
  @ApiOkResponse({ type: OrgView })
  @ApiErrors('not_found', 'conflict')
  async rename(
    @CurrentUser() caller: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Body() dto: CreateOrgDto,
  ): Promise<OrgView> {
    return orgView(await this.orgs.rename(caller, id, dto.name));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Delete an organisation',
    description:
      'Only with no user and no active job (409 naming `users` or `active_jobs`). When finished jobs, approval ' +
      'requests or uploads of former members still name it, it is marked deleted instead: gone from every lookup, ' +
      'its name free again, its history kept.',
  })
  @ApiNoContentResponse()
  @ApiErrors('not_found', 'conflict')
  async delete(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string): Promise<void> {
    await this.orgs.delete(caller, id);
  }
}
