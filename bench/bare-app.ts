/**
 * The reference for (c): a bare NestJS route on @nestjs/platform-fastify that only validates the
 * same body with the same ValidationPipe and DTO as POST /customers/:id/interactions, and answers
 * 201 with a small body. No auth, no interceptors, no event store. Run as a child process:
 *   PORT=3001 node dist/bench/bare-app.js
 *
 * With BARE_READS_FILE (the reads item, bench/reads.ts), also the reference for the reads: GET
 * /customers/:id, GET /customers and GET /reports/:name answer the bytes and content-type the real
 * app answered for that path (captured before the load), from memory; the query string is ignored.
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, NotFoundException, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LogInteractionDto } from '../apps/api/src/customers/customer.dto';
import { validationPipe } from '../apps/api/src/http/validation';

const BODY_LIMIT_BYTES = 1024 * 1024; // as apps/api/src/app.factory.ts

@Controller()
class BareController {
  @Post('customers/:id/interactions')
  interaction(@Param('id', new ParseUUIDPipe()) customerId: string, @Body() dto: LogInteractionDto) {
    return { id: dto.id ?? randomUUID(), streamId: `customer-${customerId}`, revision: 1, position: 1 };
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

/** The file the reads item writes: each path's captured answer, the body base64 (bench/reads.ts). */
export interface BareReads {
  [path: string]: { contentType: string; body: string };
}

const captured: BareReads = process.env.BARE_READS_FILE ? (JSON.parse(readFileSync(process.env.BARE_READS_FILE, 'utf8')) as BareReads) : {};
const reads = new Map(
  Object.entries(captured).map(([path, r]) => [path, { contentType: r.contentType, body: Buffer.from(r.body, 'base64') }]),
);

function answer(path: string, reply: FastifyReply): Buffer {
  const found = reads.get(path);
  if (!found) throw new NotFoundException(`no captured answer for ${path}`);
  reply.header('content-type', found.contentType);
  return found.body;
}

@Controller()
class BareReadsController {
  @Get('customers/:id')
  customer(@Param('id') id: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return answer(`/customers/${id}`, reply);
  }

  @Get('customers')
  customers(@Res({ passthrough: true }) reply: FastifyReply) {
    return answer('/customers', reply);
  }

  @Get('reports/:name')
  report(@Param('name') name: string, @Res({ passthrough: true }) reply: FastifyReply) {
    return answer(`/reports/${name}`, reply);
  }
}

@Module({ controllers: process.env.BARE_READS_FILE ? [BareController, BareReadsController] : [BareController] })
class BareModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(BareModule, new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }), {
    logger: ['warn', 'error', 'fatal'],
    bodyParser: false,
  });
  app.useGlobalPipes(validationPipe);
  app.enableShutdownHooks();
  await app.listen({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST ?? '127.0.0.1' });
}

main().catch((error) => {
  process.stderr.write(`bare app failed: ${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
