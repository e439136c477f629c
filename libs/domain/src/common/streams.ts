/** Streams are named `<category>-<id>` (docs/domain.md). */
export const Categories = ['customer', 'lead', 'deal', 'campaign', 'spend', 'task', 'goal'] as const;
export type Category = (typeof Categories)[number];

export const streamIdOf = (category: Category, id: string): string => `${category}-${id}`;

export function categoryOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

export function idOf(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? '' : streamId.slice(dash + 1);
}
