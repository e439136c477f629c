import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { RevisionedCommandDto, TEXT_MAX } from './dto';

/** `POST /customers|leads|deals/:id/archive` and `/restore` (issue 16): managers and admins. */
export class ArchiveDto extends RevisionedCommandDto {
  @ApiPropertyOptional({ example: 'duplicate record' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(TEXT_MAX)
  reason?: string;
}
