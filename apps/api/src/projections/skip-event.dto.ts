import { ApiProperty } from '@nestjs/swagger';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { NAME_MAX, TEXT_MAX } from '../http/dto';

/** `POST /projections/:name/skip`: the event to pass over (the one it is stopped on) and why. */
export class SkipEventDto {
  @ApiProperty({ description: 'The id of the event it is stopped on (`failure.eventId` in GET /projections)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(NAME_MAX)
  eventId!: string;

  @ApiProperty({
    description: 'Why the event may be passed over; kept with the skip, with who asked',
    example: 'imported with a malformed amount; corrected by a later event',
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(TEXT_MAX)
  reason!: string;
}
