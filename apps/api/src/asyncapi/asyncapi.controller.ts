import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
// Imported, not read from disk: tsc copies the JSON into dist/ beside the code (dist/docs/), so it
// is there under Jest, from dist/ and in the Docker image (which has only dist and node_modules).
import asyncapi from '../../../../docs/asyncapi.json';
import { Public } from '../auth/access';

/** Serialized once: the document never changes while the process runs. */
const BODY = JSON.stringify(asyncapi);

/** Left out of the OpenAPI document, like /docs-json itself: a document about the API, not an operation of it. */
@ApiExcludeController()
@Controller('asyncapi.json')
export class AsyncApiController {
  /**
   * The contract of the events on Kafka and the HTTP feed (docs/kafka.md, "The contract"): an
   * AsyncAPI 3.0.0 document with a JSON Schema per event type and version, generated from the
   * code. Public like /docs: it describes shapes, not data.
   */
  @Get()
  @Public()
  @Header('Content-Type', 'application/json; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=300')
  document(): string {
    return BODY;
  }
}
