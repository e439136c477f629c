import { Controller, Get, Headers, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/access';
import { DASHBOARD_CACHE_CONTROL, DASHBOARD_CSP, DashboardFile, DashboardFiles } from './dashboard-files';

/**
 * GET /dashboard: the report charts (docs/dashboard.md). Public: the page and its assets hold no
 * data; the page asks for an API key and calls the report routes with it. Left out of the OpenAPI
 * document, which describes the API, not this page.
 */
@ApiExcludeController()
@Controller('dashboard')
export class DashboardController {
  constructor(private readonly files: DashboardFiles) {}

  @Get()
  @Public()
  page(@Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply) {
    return send(reply, this.files.page, ifNoneMatch);
  }

  @Get('assets/:name')
  @Public()
  asset(@Param('name') name: string, @Headers('if-none-match') ifNoneMatch: string | undefined, @Res() reply: FastifyReply) {
    const file = this.files.asset(name);
    if (!file) throw new NotFoundException(`no dashboard asset "${name.slice(0, 100)}"`);
    return send(reply, file, ifNoneMatch);
  }
}

function send(reply: FastifyReply, file: DashboardFile, ifNoneMatch: string | undefined): FastifyReply {
  reply.header('Content-Security-Policy', DASHBOARD_CSP).header('Cache-Control', DASHBOARD_CACHE_CONTROL).header('ETag', file.etag);
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === file.etag)) return reply.code(304).send();
  return reply.type(file.contentType).send(file.body);
}
