import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class CommandResponse {
  @ApiProperty({ description: 'Id of the aggregate (or purchase, interaction, spend) concerned' })
  id!: string;
  @ApiProperty({ example: 'customer-0b6f…' })
  streamId!: string;
  @ApiProperty({ description: "The stream's revision after the command (send as If-Match next time)" })
  revision!: number;
  @ApiProperty({ description: 'Global position of the last event written; pass as ?minPosition= to read your write' })
  position!: number;
  @ApiPropertyOptional({ description: 'Lead conversion only: the customer the lead became' })
  customerId?: string;
}
