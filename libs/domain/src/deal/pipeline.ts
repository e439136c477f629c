import { InvalidInput } from '../common/errors';

/** An ordered list of open stages, each with a default win probability. `won`/`lost` are terminal. */
export interface PipelineStage {
  name: string;
  probability: number;
  /** Days a deal may stay in this stage before it counts as stalled (optional). */
  stallAfterDays?: number;
}
export interface Pipeline {
  stages: PipelineStage[];
}

export const TerminalStages = ['won', 'lost'] as const;

export const defaultPipeline: Pipeline = {
  stages: [
    { name: 'qualification', probability: 0.1 },
    { name: 'needs-analysis', probability: 0.2 },
    { name: 'proposal', probability: 0.5 },
    { name: 'negotiation', probability: 0.8 },
  ],
};

/** Validates a pipeline configuration; used at start-up so a bad file stops the process. */
export function validatePipeline(pipeline: unknown): Pipeline {
  const p = pipeline as Pipeline;
  if (!p || !Array.isArray(p.stages) || p.stages.length === 0) {
    throw new InvalidInput('pipeline.stages', 'must be a non-empty array');
  }
  const seen = new Set<string>();
  p.stages.forEach((stage, i) => {
    const at = `pipeline.stages[${i}]`;
    if (typeof stage?.name !== 'string' || !/^[a-z0-9][a-z0-9-]*$/.test(stage.name)) {
      throw new InvalidInput(`${at}.name`, 'must be a lower-case slug');
    }
    if ((TerminalStages as readonly string[]).includes(stage.name)) {
      throw new InvalidInput(`${at}.name`, `"${stage.name}" is terminal and cannot be configured`);
    }
    if (seen.has(stage.name)) throw new InvalidInput(`${at}.name`, `duplicate stage "${stage.name}"`);
    seen.add(stage.name);
    if (typeof stage.probability !== 'number' || !(stage.probability >= 0 && stage.probability <= 1)) {
      throw new InvalidInput(`${at}.probability`, 'must be a number between 0 and 1');
    }
    if (stage.stallAfterDays !== undefined && !(typeof stage.stallAfterDays === 'number' && stage.stallAfterDays > 0)) {
      throw new InvalidInput(`${at}.stallAfterDays`, 'must be a positive number');
    }
  });
  return { stages: p.stages.map((s) => ({ ...s })) };
}

export const stageNames = (pipeline: Pipeline): string[] => pipeline.stages.map((s) => s.name);

export function stageProbability(pipeline: Pipeline, stage: string): number {
  return pipeline.stages.find((s) => s.name === stage)?.probability ?? 0;
}
