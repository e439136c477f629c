const DAY_MS = 86_400_000;
const isWeekend = (ms: number): boolean => {
  const day = new Date(ms).getUTCDay();
  return day === 0 || day === 6;
};

/** `n` business days (Monday–Friday, UTC) after an instant, same time of day: Friday 10:00 + 1 → Monday 10:00. */
export function addBusinessDays(iso: string, n: number): string {
  let ms = Date.parse(iso);
  let left = n;
  while (left > 0) {
    ms += DAY_MS;
    if (!isWeekend(ms)) left--;
  }
  return new Date(ms).toISOString();
}
