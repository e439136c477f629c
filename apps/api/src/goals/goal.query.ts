import { Inject } from '@nestjs/common';
import { IQueryHandler, Query, QueryHandler } from '@nestjs/cqrs';
import type { Pipeline } from '@chronicle/domain';
import { ReadModels } from '@chronicle/projector';
import { findGoal, goalView, GoalView } from '@chronicle/projections';
import { ChronicleConfig, CONFIG, PIPELINE } from '@chronicle/infrastructure';

/** One goal with its progress as of an instant (null: no such goal). */
export class GoalProgressQuery extends Query<GoalView | null> {
  constructor(
    readonly goalId: string,
    readonly asOfMs: number,
  ) {
    super();
  }
}

@QueryHandler(GoalProgressQuery)
export class GoalProgressHandler implements IQueryHandler<GoalProgressQuery> {
  constructor(
    private readonly readModels: ReadModels,
    @Inject(PIPELINE) private readonly pipeline: Pipeline,
    @Inject(CONFIG) private readonly config: ChronicleConfig,
  ) {}

  async execute({ goalId, asOfMs }: GoalProgressQuery): Promise<GoalView | null> {
    const doc = await findGoal(this.readModels, goalId);
    return doc && goalView(doc, asOfMs, { readModels: this.readModels, pipeline: this.pipeline, scoring: this.config.scoring });
  }
}
