import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsNumber, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { SpendCategories } from '@chronicle/domain';
import { CreateCommandDto, IsSlug, NAME_MAX, TEXT_MAX } from '../http/dto';
import { IsId } from '../http/ids';

const finite = { allowNaN: false, allowInfinity: false };

export class LaunchCampaignDto extends CreateCommandDto {
  @ApiProperty({ example: 'Spring webinar series' }) @IsString() @IsNotEmpty() @MaxLength(NAME_MAX) name!: string;
  @ApiProperty({ example: 'webinar' }) @IsSlug() @MaxLength(64) channel!: string;
  @ApiPropertyOptional() @IsOptional() @IsNumber(finite) @Min(0) @Max(1e15) budget?: number;
}

export class RecordSpendDto extends CreateCommandDto {
  @ApiProperty({ example: 5000 }) @IsNumber(finite) @Min(0) @Max(1e15) amount!: number;
  @ApiProperty({ enum: SpendCategories }) @IsIn(SpendCategories) category!: (typeof SpendCategories)[number];
  @ApiPropertyOptional({ description: "Default: the campaign's channel; none = unattributed" })
  @IsOptional()
  @IsSlug()
  @MaxLength(64)
  channel?: string;
  @ApiPropertyOptional() @IsOptional() @IsId() campaignId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(TEXT_MAX) description?: string;
}
