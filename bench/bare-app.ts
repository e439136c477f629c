/**
 * The reference for (c): a bare NestJS route on @nestjs/platform-fastify that only validates the
 * same body with the same ValidationPipe and DTO as POST /customers/:id/interactions, and answers
 * 201 with a small body. No auth, no interceptors, no event store. Run as a child process:
 *   PORT=3001 node dist/bench/bare-app.js
 */
import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
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

@Module({ controllers: [BareController] })
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
