import { pipeline } from 'node:stream';
import { Controller, Get, Headers, Param, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import type { AuthenticatedUser } from '../auth';
import { AppError } from '../common/errors';
import { UuidParam } from '../common/uuid-param';
import { ApiErrors } from '../openapi';
import { ArtifactsService } from './artifacts.service';
import { ArtifactView } from './artifacts.view';

const binary = { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } };
const fileHeaders = {
  'Content-Length': { description: 'Bytes in this answer', schema: { type: 'integer' } },
  ETag: { description: 'The hex SHA-256 of the whole file, quoted', schema: { type: 'string' } },
  'Accept-Ranges': { description: '`bytes`', schema: { type: 'string' } },
  'Content-Disposition': { description: '`attachment; filename="<name>"`', schema: { type: 'string' } },
};

@ApiTags('Jobs')
@Controller('api/cloud/jobs')
export class ArtifactsController {
  constructor(private readonly artifacts: ArtifactsService) {}

  @Get(':id/artifacts')
  @MinLevel('viewer')
  @ApiOperation({
    summary: "List a job's artifacts",
    description:
      "A completed job's outputs, copied into the service's store before the provider deletes them; each is " +
      '`pending`/`copying` until it ends `stored` or `failed`. Visible to whoever sees the job.',
  })
  @ApiOkResponse({ type: ArtifactView, isArray: true })
  @ApiErrors('job_not_found')
  list(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<ArtifactView[]> {
    return this.artifacts.list(user, id);
  }

  @Get(':id/artifacts/:name')
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'Download an artifact',
    description:
      'The stored file, as `application/octet-stream`. One `Range: bytes=…` range is answered with 206 (several, ' +
      'or a malformed one, with the whole file); a range past the end with 416 and `Content-Range: bytes */<size>`. ' +
      '409 while it is not stored yet.',
  })
  @ApiHeader({ name: 'Range', required: false, description: 'One byte range, e.g. `bytes=0-1023`' })
  @ApiResponse({ status: 200, description: 'The whole file', content: binary, headers: fileHeaders })
  @ApiResponse({
    status: 206,
    description: 'The range asked for',
    content: binary,
    headers: { ...fileHeaders, 'Content-Range': { description: '`bytes a-b/size`', schema: { type: 'string' } } },
  })
  @ApiErrors('job_not_found', 'not_found', 'conflict', 'range_not_satisfiable')
  async download(
    @CurrentUser() user: AuthenticatedUser,
    @UuidParam('id') id: string,
    @Param('name') name: string,
    @Headers('range') range: string | undefined,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const head = req.method === 'HEAD';
    const d = await this.artifacts.open(user, id, name, range, !head);
    const size = d.artifact.size!;
    if (d.status === 416) {
      res.setHeader('Content-Range', `bytes */${size}`);
      throw new AppError('range_not_satisfiable', 416, `The range starts past the end of ${name} (${size} bytes)`, {
        size,
      });
    }
    res.status(d.status);
    res.setHeader('Content-Type', 'application/octet-stream');
    res.setHeader('Content-Length', String(d.range ? d.range.end - d.range.start + 1 : size));
    res.setHeader('ETag', `"${d.artifact.sha256}"`);
    res.setHeader('Accept-Ranges', 'bytes');
    res.setHeader('Content-Disposition', `attachment; filename="${d.artifact.name}"`);
    if (d.range) res.setHeader('Content-Range', `bytes ${d.range.start}-${d.range.end}/${size}`);
    if (!d.body) {
      res.end();
      return;
    }
    // A reader who leaves stops the read of the store.
    pipeline(d.body, res, () => undefined);
  }
}
