import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { LimitQuery } from '../read/list-queries.dto';

/** `GET /customers/duplicates`: a page of candidate pairs, after a previous page's cursor. */
export class DuplicatesQuery extends LimitQuery {
  @ApiPropertyOptional({ description: "The previous page's `nextCursor`" })
  @IsOptional()
  @IsString()
  @MaxLength(600)
  after?: string;
}
