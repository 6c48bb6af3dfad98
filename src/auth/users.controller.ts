import { Body, Controller, Delete, Get, HttpCode, Patch, Post } from '@nestjs/common';
import { CurrentUser, MinLevel } from './auth.decorators';
import type { AuthenticatedUser } from './authenticated-user';
import { CreateApiKeyDto, CreateOrgDto, CreateUserDto, UpdateUserDto } from './users.dto';
import { apiKeyView, userView, UsersService } from './users.service';
import { UuidParam } from '../common/uuid-param';

@Controller('api')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post('users')
  @MinLevel('lead')
  async create(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateUserDto) {
    return userView(await this.users.create(caller, dto));
  }

  @Get('users')
  @MinLevel('lead')
  async list(@CurrentUser() caller: AuthenticatedUser) {
    return { users: (await this.users.list(caller)).map(userView) };
  }

  @Get('users/me')
  @MinLevel('viewer')
  async me(@CurrentUser() caller: AuthenticatedUser) {
    return userView(await this.users.me(caller));
  }

  @Patch('users/:id')
  @MinLevel('lead')
  async update(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string, @Body() dto: UpdateUserDto) {
    return userView(await this.users.update(caller, id, dto));
  }

  @Post('orgs')
  async createOrg(@CurrentUser() caller: AuthenticatedUser, @Body() dto: CreateOrgDto) {
    const org = await this.users.createOrg(caller, dto.name);
    return { id: org.id, name: org.name, created_at: org.createdAt.toISOString() };
  }

  @Get('orgs')
  @MinLevel('viewer')
  async listOrgs(@CurrentUser() caller: AuthenticatedUser) {
    const orgs = await this.users.listOrgs(caller);
    return { orgs: orgs.map((o) => ({ id: o.id, name: o.name, created_at: o.createdAt.toISOString() })) };
  }

  @Get('users/:id/api-keys')
  @MinLevel('viewer')
  async listKeys(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string) {
    return { api_keys: (await this.users.listKeys(caller, id)).map(apiKeyView) };
  }

  @Post('users/:id/api-keys')
  @MinLevel('viewer')
  async createKey(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string, @Body() dto: CreateApiKeyDto) {
    return this.users.createKey(caller, id, dto);
  }

  @Delete('api-keys/:id')
  @MinLevel('viewer')
  @HttpCode(200)
  async revokeKey(@CurrentUser() caller: AuthenticatedUser, @UuidParam('id') id: string) {
    return apiKeyView(await this.users.revokeKey(caller, id));
  }
}
