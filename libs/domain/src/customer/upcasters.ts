import type { Upcaster } from '../events';
import { interactionChannelOf } from './events';

/**
 * InteractionLogged 1 → 2: version 2 adds the structured `channel`. A version 1 payload gets the
 * channel its `type` is logged with today, so an upcast event equals the one the same request
 * writes now; the other fields are kept as they were. Reads only `type`: upcasters run on events
 * as stored, where `subject` and `outcome` are sealed (libs/personal-data), and must keep `sealed`.
 */
export const interactionLoggedV1ToV2: Upcaster = (data) => ({ ...data, channel: interactionChannelOf(String(data.type)) });
