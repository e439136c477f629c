import { Body, Controller, Inject, Post, UnprocessableEntityException } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { CommandContext } from '@chronicle/commands';
import { Pipeline } from '@chronicle/domain';
import { ChronicleConfig, CONFIG, PIPELINE } from '@chronicle/infrastructure';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { RequiresAccess } from '../auth/access';
import { Context } from '../http/command-context.decorator';
import { ImportFormat, ImportFormats } from './import-format';
import { autoAssignsCustomers, ImportResult, runImport } from './importer';
import { ImportType, ImportTypes } from './import-validation';

export class ImportRequestDto {
  @ApiProperty({ enum: ImportTypes, description: 'What each row creates: as POST /customers, /leads, /deals, /customers/:id/interactions' })
  @IsIn(ImportTypes)
  type!: ImportType;
  @ApiPropertyOptional({ enum: ImportFormats, description: 'Default csv' }) @IsOptional() @IsIn(ImportFormats) format?: ImportFormat;
  @ApiProperty({ description: "The file's text: CSV with a header row, or NDJSON; columns named as the API's fields (docs/imports.md)" })
  @IsString()
  @IsNotEmpty()
  content!: string;
  @ApiPropertyOptional({ description: "The column whose value is each row's key (default: a hash of the row)" })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(64)
  key?: string;
  @ApiPropertyOptional({ description: 'Append the valid rows even if some are invalid (default false: all or nothing)' })
  @IsOptional()
  @IsBoolean()
  skipInvalid?: boolean;
  @ApiPropertyOptional({ description: 'false: the automation (scoring, assignment, rules, stall checks) does not act on these events' })
  @IsOptional()
  @IsBoolean()
  automation?: boolean;
}

/** `POST /imports`: a CSV or NDJSON file of customers, leads, deals or interactions, with their history's dates (docs/imports.md). */
@ApiTags('imports')
@ApiBearerAuth()
@Controller('imports')
export class ImportsController {
  constructor(
    private readonly store: PersonalDataEventStore,
    @Inject(PIPELINE) private readonly pipeline: Pipeline,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
  ) {}

  /**
   * Every row validated (as the API validates each record's body) and decided before anything is
   * appended: any invalid row is a 422 listing each problem by row and column, and nothing is
   * appended, unless `skipInvalid`. Rows imported before (same key) are skipped.
   */
  @Post()
  @RequiresAccess('manage')
  @ApiCreatedResponse({ description: '{ importId, rows, appended, events, skipped, rejected: [{ row, column, message }], position }' })
  async import(@Body() dto: ImportRequestDto, @Context() context: CommandContext): Promise<Omit<ImportResult, 'rejectedRows' | 'refused'>> {
    const {
      rejectedRows: _,
      refused,
      ...result
    } = await runImport(
      { store: this.store, pipeline: this.pipeline, autoAssignCustomers: autoAssignsCustomers(this.config) },
      dto.content,
      {
        type: dto.type,
        format: dto.format ?? 'csv',
        key: dto.key,
        skipInvalid: dto.skipInvalid,
        automation: dto.automation,
        actor: context.actor,
        correlationId: context.correlationId,
      },
    );
    if (refused) {
      const rows = new Set(result.rejected.map((e) => e.row)).size;
      throw new UnprocessableEntityException({
        statusCode: 422,
        error: 'Unprocessable Entity',
        message: `${rows} of ${result.rows} rows are invalid: nothing was appended`,
        rows: result.rows,
        rejected: result.rejected,
      });
    }
    return result;
  }
}
