import { Module } from '@nestjs/common';
import { DashboardController } from './dashboard.controller';
import { DashboardFiles } from './dashboard-files';

/** The dashboard page and its static assets (served by the API process itself). */
@Module({ controllers: [DashboardController], providers: [DashboardFiles] })
export class DashboardModule {}
