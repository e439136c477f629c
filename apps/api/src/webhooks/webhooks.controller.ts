import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  Patch,
  Post,
} from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { randomBytes, randomUUID } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { StateStore } from '@chronicle/cluster';
import type { EventStore } from '@chronicle/event-store';
import { ChronicleConfig, CONFIG, SEALED_EVENT_STORE, STATE_STORE } from '@chronicle/infrastructure';
import {
  DeadLetter,
  post,
  SIGNATURE_HEADER,
  signature,
  WEBHOOK_STORE,
  webhookCheckpoint,
  WebhookChanges,
  WebhookStore,
  WebhookSubscription,
  WebhookUrlPolicy,
} from '@chronicle/webhooks';
import { assertFeedPosition } from '../events/feed-position';
import { RequiresAccess } from '../auth/access';
import { Actor } from '../http/command-context.decorator';
import { CreateWebhookDto, ReplayWebhookDto, UpdateWebhookDto } from './webhook.dto';

/** Counting matching events stops here (a lag beyond it is reported as at least this). */
const LAG_COUNT_LIMIT = 10_000;

/** A subscription as the API shows it: everything but the secret. */
const viewOf = ({ secret: _, ...subscription }: WebhookSubscription) => subscription;
/** A dead letter without its events (they can be many): which positions, how often tried, the last answer. */
const letterOf = ({ events, ...letter }: DeadLetter) => ({ ...letter, events: events.length });

/**
 * Webhook subscriptions (docs/webhooks.md): managers and admins create and change them; the
 * holder of the `webhooks` role (wherever the background consumers run) delivers.
 */
@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('webhooks')
export class WebhooksController {
  constructor(
    @Inject(WEBHOOK_STORE) private readonly store: WebhookStore,
    @Inject(STATE_STORE) private readonly state: StateStore,
    @Inject(SEALED_EVENT_STORE) private readonly events: EventStore,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
    private readonly policy: WebhookUrlPolicy,
  ) {}

  /** Subscribes a URL to the feed; the answer shows the signing secret, once. */
  @Post()
  @RequiresAccess('manage')
  async create(@Body() dto: CreateWebhookDto, @Actor() actor: string) {
    await this.checkUrl(dto.url);
    const now = new Date().toISOString();
    const subscription: WebhookSubscription = {
      id: randomUUID(),
      url: dto.url,
      ...(dto.eventTypes?.length && { eventTypes: dto.eventTypes }),
      ...(dto.categories?.length && { categories: dto.categories }),
      secret: dto.secret ?? `whsec_${randomBytes(24).toString('base64url')}`,
      status: 'active',
      createdAt: now,
      createdBy: actor,
      updatedAt: now,
    };
    await this.store.create(subscription);
    return { ...viewOf(subscription), secret: subscription.secret };
  }

  @Get()
  @RequiresAccess('manage')
  async list() {
    const [subscriptions, positions] = await Promise.all([this.store.list(), this.positions()]);
    return { webhooks: await Promise.all(subscriptions.map(async (s) => ({ ...viewOf(s), ...(await this.progress(s, positions)) }))) };
  }

  /** The subscription with its checkpoint, lag and dead letters. */
  @Get(':id')
  @RequiresAccess('manage')
  async get(@Param('id') id: string) {
    const subscription = await this.found(id);
    const [positions, letters] = await Promise.all([this.positions(), this.store.deadLetters(id)]);
    return { ...viewOf(subscription), ...(await this.progress(subscription, positions)), deadLetters: letters.map(letterOf) };
  }

  /** Pause (`status: paused`), resume, or change the URL or filters; an empty list removes a filter. */
  @Patch(':id')
  @RequiresAccess('manage')
  async update(@Param('id') id: string, @Body() dto: UpdateWebhookDto) {
    await this.found(id);
    if (dto.url !== undefined) await this.checkUrl(dto.url);
    const changes: WebhookChanges = { unset: [] };
    if (dto.url !== undefined) changes.url = dto.url;
    if (dto.status !== undefined) changes.status = dto.status;
    for (const filter of ['eventTypes', 'categories'] as const) {
      if (dto[filter]?.length === 0) changes.unset!.push(filter);
      else if (dto[filter] !== undefined) changes[filter] = dto[filter];
    }
    const updated = await this.store.update(id, changes, new Date().toISOString());
    if (!updated) throw new NotFoundException(`no webhook ${id}`);
    return viewOf(updated);
  }

  @Delete(':id')
  @RequiresAccess('manage')
  @HttpCode(204)
  async remove(@Param('id') id: string) {
    if (!(await this.store.remove(id))) throw new NotFoundException(`no webhook ${id}`);
  }

  /** Delivers again every event after `fromPosition` (the holder moves the checkpoint there). */
  @Post(':id/replay')
  @RequiresAccess('manage')
  @HttpCode(202)
  async replay(@Param('id') id: string, @Body() dto: ReplayWebhookDto) {
    await this.found(id);
    const head = await this.events.headPosition();
    if (dto.fromPosition > head) throw new BadRequestException(`fromPosition: ${dto.fromPosition} is past the head of the feed (${head})`);
    await assertFeedPosition(this.events, dto.fromPosition, 'fromPosition');
    const replay = { fromPosition: dto.fromPosition, requestedAt: new Date().toISOString() };
    await this.store.update(id, { replay }, replay.requestedAt);
    return { id, replay };
  }

  /**
   * Tries a dead letter again, once, now, from this process: delivered, it leaves the list;
   * failed, it stays with the new attempt's status and error. Either way the answer says which.
   */
  @Post(':id/dead-letters/:letterId/retry')
  @RequiresAccess('manage')
  @HttpCode(200)
  async retry(@Param('id') id: string, @Param('letterId') letterId: string) {
    const subscription = await this.found(id);
    const letter = await this.store.deadLetter(id, letterId);
    if (!letter) throw new NotFoundException(`webhook ${id} has no dead letter ${letterId}`);
    const body = JSON.stringify({ subscriptionId: id, deliveryId: letter.id, events: letter.events });
    const attempt = letter.attempts + 1;
    const result = await post(
      subscription.url,
      body,
      {
        [SIGNATURE_HEADER]: signature(subscription.secret, body, Math.floor(Date.now() / 1000)),
        'chronicle-delivery-id': letter.id,
        'chronicle-delivery-attempt': String(attempt),
        'chronicle-subscription-id': id,
        'user-agent': 'Chronicle-Webhooks/1',
      },
      { timeoutMs: this.config.webhooks.timeoutMs, policy: this.policy },
    );
    if (result.ok) {
      await this.store.removeDeadLetter(id, letterId);
      return { delivered: true, status: result.status, attempts: attempt };
    }
    const failure = {
      attempts: attempt,
      ...(result.status !== undefined && { lastStatus: result.status }),
      lastError: result.error!,
      failedAt: new Date().toISOString(),
    };
    await this.store.updateDeadLetter(id, letterId, failure);
    return { delivered: false, ...failure };
  }

  private async found(id: string): Promise<WebhookSubscription> {
    const subscription = await this.store.get(id);
    if (!subscription) throw new NotFoundException(`no webhook ${id}`);
    return subscription;
  }

  /** A URL the policy refuses, as written or by what its host resolves to now, is a 400 naming why. */
  private async checkUrl(url: string): Promise<void> {
    const problem = this.policy.urlProblem(url);
    if (problem) throw new BadRequestException(`url: ${problem}`);
    const host = new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0) return;
    // A name that does not resolve (yet) is taken: its deliveries fail until it does.
    const addresses = await lookup(host, { all: true }).catch(() => []);
    const refused = addresses.map((a) => this.policy.addressProblem(host, a.address)).find((p) => p !== undefined);
    if (refused) throw new BadRequestException(`url: ${refused}`);
  }

  private async positions(): Promise<Map<string, number>> {
    return new Map((await this.state.checkpoints()).filter((c) => c.name.startsWith('webhook:')).map((c) => [c.name, c.position]));
  }

  /** Where its delivery stands: the position of the last event delivered (or passed over), and the matching events after it. */
  private async progress(subscription: WebhookSubscription, positions: Map<string, number>) {
    const checkpoint = positions.get(webhookCheckpoint(subscription.id)) ?? 0;
    const filter =
      subscription.eventTypes || subscription.categories
        ? {
            ...(subscription.eventTypes && { types: subscription.eventTypes }),
            ...(subscription.categories && { categories: subscription.categories }),
          }
        : undefined;
    const page = await this.events.readAll({ fromPosition: checkpoint, maxCount: LAG_COUNT_LIMIT, filter });
    return { checkpoint, lag: page.events.length };
  }
}
