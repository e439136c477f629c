import { Controller, Get, GoneException, NotFoundException, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiGoneResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { InvalidInput } from '@chronicle/domain';
import { PersonalDataEventStore } from '@chronicle/personal-data';
import { RequiresAccess } from '../auth/access';

class DataKeyResponse {
  @ApiProperty({ example: 'customer-0b6f…' }) subject!: string;
  @ApiProperty({ description: 'The AES-256-GCM data key, base64url' }) key!: string;
}

const SUBJECT = /^(customer|lead)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * For downstream services: the key that opens a subject's sealed personal fields in Kafka
 * messages (`data.sealed`, see docs/personal-data.md and examples/consumer). Once erased, a 410:
 * the key is gone for good, so old messages stay unreadable.
 */
@ApiTags('personal-data')
@ApiBearerAuth()
@Controller('personal-data/keys')
export class PersonalDataController {
  constructor(private readonly personalData: PersonalDataEventStore) {}

  @Get(':subject')
  @RequiresAccess('decrypt')
  @ApiOkResponse({ type: DataKeyResponse })
  @ApiGoneResponse({ description: 'The subject’s personal data was erased' })
  async key(@Param('subject') subject: string): Promise<DataKeyResponse> {
    if (!SUBJECT.test(subject)) throw new InvalidInput('subject', 'must be customer-<uuid> or lead-<uuid>');
    const key = await this.personalData.keyOf(subject);
    if (key === 'erased') throw new GoneException(`the personal data of ${subject} was erased`);
    if (key === undefined) throw new NotFoundException(`${subject} has no personal data`);
    return { subject, key: key.toString('base64url') };
  }
}
