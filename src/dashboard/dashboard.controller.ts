import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { Public } from '../auth';
import { NoRateLimit } from '../rate-limits';
import { AppError, NotFoundError } from '../common/errors';
import { DashboardFile } from './dashboard-assets';
import { ASSET_CACHE_CONTROL, DASHBOARD_SECURITY_HEADERS, INDEX_CACHE_CONTROL } from './dashboard-headers';
import { DashboardService } from './dashboard.service';
import { ApiErrors } from '../openapi';

const NOT_MODIFIED = ApiResponse({ status: 304, description: 'Not modified (the `If-None-Match` ETag matches)' });

/**
 * The operations page: static files only, no key needed to load them. Everything the page shows comes from the
 * API with the user's key in a header, so serving the files reveals nothing.
 */
@ApiTags('Dashboard')
@Controller()
@Public()
// Static files, many per page load and all from one address behind an office proxy: not worth a caller's allowance.
@NoRateLimit()
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get()
  @ApiOperation({ summary: 'Redirects to the dashboard' })
  @ApiResponse({
    status: 302,
    description: 'To /dashboard',
    headers: { Location: { schema: { type: 'string', enum: ['/dashboard'] } } },
  })
  root(@Res() res: Response): void {
    res.redirect(302, '/dashboard');
  }

  @Get('dashboard')
  @ApiOperation({
    summary: 'The operations dashboard (a web page)',
    description: 'The page asks for an API key and sends it as a header; serving it needs none.',
  })
  @ApiResponse({ status: 200, description: 'The page', content: { 'text/html': { schema: { type: 'string' } } } })
  @NOT_MODIFIED
  @ApiErrors('dashboard_not_built')
  index(@Req() req: Request, @Res() res: Response): void {
    send(req, res, this.build().index, INDEX_CACHE_CONTROL);
  }

  @Get('dashboard/assets/:file')
  @ApiOperation({ summary: "A file of the dashboard's build (script, styles, icon)" })
  @ApiParam({ name: 'file', description: 'A content-hashed file name from the page' })
  @ApiResponse({
    status: 200,
    description: 'The file, cached for a year (its name changes with its content)',
    content: { 'text/javascript': {}, 'text/css': {}, 'image/svg+xml': {}, 'image/png': {}, 'application/json': {} },
  })
  @NOT_MODIFIED
  @ApiErrors('not_found', 'dashboard_not_built')
  asset(@Param('file') file: string, @Req() req: Request, @Res() res: Response): void {
    const asset = this.build().assets.get(file);
    if (!asset) throw new NotFoundError(`No dashboard asset named ${file}`);
    send(req, res, asset, ASSET_CACHE_CONTROL);
  }

  private build() {
    const build = this.dashboard.build();
    if (!build) {
      throw new AppError(
        'dashboard_not_built',
        503,
        `The dashboard is not built (looked in ${this.dashboard.dir}): run npm run build`,
      );
    }
    return build;
  }
}

function send(req: Request, res: Response, file: DashboardFile, cacheControl: string): void {
  res.set(DASHBOARD_SECURITY_HEADERS);
  res.set({ 'Cache-Control': cacheControl, ETag: file.etag, Vary: 'Accept-Encoding' });
  if (req.headers['if-none-match'] === file.etag) {
    res.status(304).end();
    return;
  }
  res.type(file.contentType);
  if (file.gzipped && req.acceptsEncodings('gzip') === 'gzip') {
    res.set('Content-Encoding', 'gzip');
    res.send(file.gzipped);
    return;
  }
  res.send(file.body);
}
