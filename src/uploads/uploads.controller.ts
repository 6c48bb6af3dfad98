import { Controller, Delete, Get, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody, ApiConsumes, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { CurrentUser, MinLevel } from '../auth';
import { RateLimit } from '../rate-limits';
import type { AuthenticatedUser } from '../auth';
import { PaginationQuery } from '../common/pagination.dto';
import { UuidParam } from '../common/uuid-param';
import { releaseRequestTimeout } from '../edge';
import { ApiErrors } from '../openapi';
import { ClientGoneError, UPLOAD_CONTENT_TYPES } from './upload-errors';
import { UploadQuery } from './uploads.dto';
import { UploadsService } from './uploads.service';
import { DeletedUploadView, UploadListView, uploadView, UploadView } from './uploads.view';

/** The upload route: its body bypasses every body parser (the app's edge is told so). */
export const UPLOADS_PATH = '/api/cloud/uploads';

@ApiTags('Uploads')
@Controller('api/cloud/uploads')
export class UploadsController {
  constructor(private readonly uploads: UploadsService) {}

  /** Answered by hand: a client that left mid-upload gets nothing (there is nobody to answer). */
  @Post()
  @MinLevel('researcher')
  @RateLimit('uploads')
  @ApiOperation({
    summary: 'Upload a dataset archive',
    description:
      'The archive is the raw body (a zip, tar or gzip file), streamed to the provider of `?provider=` ' +
      '(default: replicate when it is configured, else the simulator) without being held whole. At most ' +
      'SIMPLETUNER_UPLOAD_MAX_BYTES (100 MiB): a larger Content-Length is refused before the body is read, a body ' +
      'that grows past it is cut off; either way nothing is kept. `upload_progress` events reach your event ' +
      'streams while it runs (at most two a second). Give the `upload_id` as `dataset.upload_id` when submitting ' +
      'a job.',
  })
  @ApiConsumes(...UPLOAD_CONTENT_TYPES)
  @ApiBody({ description: 'The archive, as it is', schema: { type: 'string', format: 'binary' } })
  @ApiCreatedResponse({ type: UploadView, description: 'The upload is kept at its provider' })
  @ApiErrors('payload_too_large', 'unsupported_media_type', 'provider_error', 'provider_unavailable')
  async upload(
    @CurrentUser() user: AuthenticatedUser,
    @Query() q: UploadQuery,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    // Until an answer sets its own: a client that leaves is logged as 499 (client closed request), whenever it leaves.
    res.status(499);
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) clientGone.abort();
    });
    const length = req.headers['content-length'];
    // The body takes as long as the client takes to send it; the service bounds it by size instead.
    releaseRequestTimeout(req);
    try {
      const upload = await this.uploads.upload(
        user,
        {
          filename: q.filename,
          provider: q.provider,
          contentType: req.headers['content-type'],
          declaredLength: length === undefined ? null : Number(length),
        },
        req,
        clientGone.signal,
      );
      res.status(201).json(uploadView(upload));
    } catch (err) {
      // Nobody is left to answer.
      if (err instanceof ClientGoneError || clientGone.signal.aborted) return;
      throw err;
    }
  }

  @Get()
  @MinLevel('viewer')
  @ApiOperation({
    summary: 'List dataset uploads',
    description: 'Newest first. A researcher sees its own; a viewer and a lead their organisation; an admin all.',
  })
  @ApiOkResponse({ type: UploadListView })
  async list(@CurrentUser() user: AuthenticatedUser, @Query() q: PaginationQuery): Promise<UploadListView> {
    const { uploads, total } = await this.uploads.list(user, q.limit ?? 50, q.offset ?? 0);
    return { uploads: uploads.map(uploadView), total };
  }

  @Get(':id')
  @MinLevel('viewer')
  @ApiOperation({ summary: 'Get a dataset upload' })
  @ApiOkResponse({ type: UploadView })
  @ApiErrors('not_found')
  async get(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<UploadView> {
    return uploadView(await this.uploads.get(user, id));
  }

  @Delete(':id')
  @MinLevel('researcher')
  @ApiOperation({
    summary: 'Delete a dataset upload',
    description: 'At its provider too. Its uploader, a lead of its organisation, or an admin.',
  })
  @ApiOkResponse({ type: DeletedUploadView })
  @ApiErrors('not_found', 'provider_error', 'provider_unavailable')
  async remove(@CurrentUser() user: AuthenticatedUser, @UuidParam('id') id: string): Promise<DeletedUploadView> {
    const upload = await this.uploads.remove(user, id);
    return { upload_id: upload.id, deleted: true };
  }
}
