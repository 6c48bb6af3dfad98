import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Public } from '../auth/auth.decorators';
import { AppError, NotFoundError } from '../common/errors';
import { DashboardFile } from './dashboard-assets';
import { ASSET_CACHE_CONTROL, DASHBOARD_SECURITY_HEADERS, INDEX_CACHE_CONTROL } from './dashboard-headers';
import { DashboardService } from './dashboard.service';

/**
 * The operations page: static files only, no key needed to load them. Everything the page shows comes from the
 * API with the user's key in a header, so serving the files reveals nothing.
 */
@Controller()
@Public()
export class DashboardController {
  constructor(private readonly dashboard: DashboardService) {}

  @Get()
  root(@Res() res: Response): void {
    res.redirect(302, '/dashboard');
  }

  @Get('dashboard')
  index(@Req() req: Request, @Res() res: Response): void {
    send(req, res, this.build().index, INDEX_CACHE_CONTROL);
  }

  @Get('dashboard/assets/:file')
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
