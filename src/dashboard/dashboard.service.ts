import { Injectable, OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config';
import { getLogger } from '../logging';
import { DashboardBuild, defaultDashboardDir, loadDashboardBuild } from './dashboard-assets';

const log = getLogger('simpletuner.cloud.dashboard');

/** Holds the built dashboard, read once at boot: a new build is served after a restart, like new server code. */
@Injectable()
export class DashboardService implements OnModuleInit {
  readonly dir: string;
  private loaded: DashboardBuild | null = null;

  constructor(config: AppConfig) {
    this.dir = config.env.SIMPLETUNER_DASHBOARD_DIR ?? defaultDashboardDir();
  }

  onModuleInit(): void {
    this.loaded = loadDashboardBuild(this.dir);
    if (!this.loaded)
      log.warning('Dashboard not built; /dashboard answers 503 until `npm run build`', { dir: this.dir });
  }

  build(): DashboardBuild | null {
    return this.loaded;
  }
}
