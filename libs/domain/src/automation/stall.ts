import type { Pipeline } from '../deal/pipeline';

const DAY_MS = 86_400_000;

export interface OpenDealStint {
  dealId: string;
  stage: string;
  /** When the deal entered its stage (epoch ms). */
  enteredAt: number;
}

/** The stage's stall limit in ms, undefined when it has none. */
export function stallLimitMs(pipeline: Pipeline, stage: string): number | undefined {
  const days = pipeline.stages.find((s) => s.name === stage)?.stallAfterDays;
  return days === undefined ? undefined : days * DAY_MS;
}

/** A deal is stalled at `now` when it has been in its stage longer than the stage's limit. */
export function isStalled(pipeline: Pipeline, stint: OpenDealStint, now: number): boolean {
  const limit = stallLimitMs(pipeline, stint.stage);
  return limit !== undefined && now - stint.enteredAt > limit;
}

export function stalledDeals<T extends OpenDealStint>(pipeline: Pipeline, open: Iterable<T>, now: number): T[] {
  return [...open].filter((s) => isStalled(pipeline, s, now));
}
