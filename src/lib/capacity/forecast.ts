import {readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'
import {linearRegression, sampleStandardDeviation} from 'simple-statistics'

const DAY = 86_400_000

export interface Point {
  /** Epoch milliseconds. */
  at: number
  value: number
}

export interface Crossing {
  method: 'linear' | 'exponential' | 'ets'
  /** Days from the last point until the series reaches the limit; null when it does not grow towards it. */
  days: number | null
  /** The 95% interval of `days`: `earliest` with the fastest plausible growth, `latest` with the slowest (null: not within the horizon). */
  earliest: number | null
  latest: number | null
  /** Growth per day at the last point. */
  perDay: number
}

/** Student's t for a two-sided 95% interval with `df` degrees of freedom (a table, then the normal limit). */
function t95(df: number): number {
  const table = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086]
  return df <= table.length ? table[Math.max(1, df) - 1]! : df <= 30 ? 2.042 : df <= 60 ? 2.0 : 1.96
}

interface Fit {
  slope: number
  intercept: number
  /** The slope's 95% margin. */
  margin: number
}

/** Least squares of y on days since the last point, and its slope's 95% margin (Student's t). */
function fit(points: Point[], transform: (value: number) => number): Fit {
  const origin = points.at(-1)!.at
  const xy = points.map((point): [number, number] => [(point.at - origin) / DAY, transform(point.value)])
  const {m: slope, b: intercept} = linearRegression(xy)
  const residuals = xy.map(([x, y]) => y - (slope * x + intercept))
  const meanX = xy.reduce((sum, [x]) => sum + x, 0) / xy.length
  const sxx = xy.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0)
  const se = xy.length > 2 && sxx > 0 ? Math.sqrt(residuals.reduce((sum, r) => sum + r * r, 0) / (xy.length - 2) / sxx) : 0
  return {slope, intercept, margin: t95(xy.length - 2) * se}
}

const crossingOf = (method: Crossing['method'], {slope, intercept, margin}: Fit, target: number, perDay: number): Crossing => {
  const at = (rate: number) => (rate > 0 ? Math.max(0, (target - intercept) / rate) : null)
  return {method, days: at(slope), earliest: at(slope + margin), latest: at(slope - margin), perDay}
}

/** Steady growth: a straight line. A series growing slower than its noise has no latest day. */
export function linearCrossing(points: Point[], limit: number): Crossing {
  const line = fit(points, (value) => value)
  return crossingOf('linear', line, limit, line.slope)
}

/** Compound growth (a share more each day): a straight line through the logarithms. */
export function exponentialCrossing(points: Point[], limit: number): Crossing {
  const line = fit(points, Math.log)
  return crossingOf('exponential', line, Math.log(limit), points.at(-1)!.value * (Math.exp(line.slope) - 1))
}

/**
 * Which growth explains the series better: each is fitted on the first three quarters and judged on
 * how well it foretells the last quarter (mean absolute percentage error).
 */
export function betterGrowth(points: Point[]): 'linear' | 'exponential' {
  if (points.some((point) => point.value <= 0)) return 'linear'
  const split = Math.max(2, Math.floor(points.length * 0.75))
  const [head, tail] = [points.slice(0, split), points.slice(split)]
  if (tail.length === 0 || head.length < 2) return 'linear'
  const error = (predict: (days: number) => number) => {
    const origin = head.at(-1)!.at
    return tail.reduce((sum, point) => sum + Math.abs(predict((point.at - origin) / DAY) - point.value) / point.value, 0) / tail.length
  }
  const line = fit(head, (value) => value)
  const logLine = fit(head, Math.log)
  return error((days) => Math.exp(logLine.intercept + logLine.slope * days)) < error((days) => line.intercept + line.slope * days) ? 'exponential' : 'linear'
}

/** Points at even steps (the median spacing), by linear interpolation: exponential smoothing needs a regular series. */
export function regular(points: Point[]): {step: number; values: number[]} {
  const gaps = points.slice(1).map((point, index) => point.at - points[index]!.at).sort((a, b) => a - b)
  const step = Math.max(1, gaps[Math.floor(gaps.length / 2)] ?? DAY)
  const values: number[] = []
  let index = 0
  for (let at = points[0]!.at; at <= points.at(-1)!.at + 1; at += step) {
    while (index < points.length - 2 && points[index + 1]!.at < at) index++
    const [a, b] = [points[index]!, points[Math.min(index + 1, points.length - 1)]!]
    values.push(b.at === a.at ? a.value : a.value + ((b.value - a.value) * (at - a.at)) / (b.at - a.at))
  }
  return {step, values}
}

let etsModule: typeof import('@bsull/augurs/ets') | undefined
async function ets(): Promise<typeof import('@bsull/augurs/ets')> {
  if (!etsModule) {
    const loaded = await import('@bsull/augurs/ets')
    // The WASM is loaded from the package's own file: no network, no bundler.
    loaded.initSync({module: readFileSync(join(dirname(createRequire(import.meta.url).resolve('@bsull/augurs/ets')), 'ets_bg.wasm'))})
    etsModule = loaded
  }
  return etsModule
}

/**
 * Exponential smoothing (augurs' AutoETS, which picks the error and trend forms by AIC) forecast
 * over `horizonDays`; the crossing is the first step whose point forecast reaches the limit, its
 * interval the steps where the 95% bounds do.
 */
export async function etsCrossing(points: Point[], limit: number, horizonDays: number): Promise<Crossing> {
  const {AutoETS} = await ets()
  const {step, values} = regular(points)
  const model = new AutoETS(1, 'ZZN')
  try {
    model.fit(values)
    const steps = Math.min(20_000, Math.ceil((horizonDays * DAY) / step))
    const forecast = model.predict(steps, 0.95)
    const lastValue = values.at(-1)!
    const offset = (points.at(-1)!.at - (points[0]!.at + (values.length - 1) * step)) / DAY
    const first = (series: number[] | undefined) => {
      if (lastValue >= limit) return 0
      const index = series?.findIndex((value) => value >= limit) ?? -1
      return index < 0 ? null : Math.max(0, ((index + 1) * step) / DAY - offset)
    }
    const perDay = ((forecast.point[0]! - lastValue) * DAY) / step
    return {method: 'ets', days: first(forecast.point), earliest: first(forecast.intervals?.upper), latest: first(forecast.intervals?.lower), perDay}
  } finally {
    model.free()
  }
}

/** How many snapshots each method needs. */
export const MIN_POINTS = {linear: 3, ets: 10} as const

/**
 * Every method there are points enough for, the one that best foretold the series' own last
 * quarter first (straight or compound growth); exponential smoothing follows as a second opinion.
 */
export async function crossings(points: Point[], limit: number, horizonDays = 730): Promise<Crossing[]> {
  if (points.length < MIN_POINTS.linear) return []
  const growth = betterGrowth(points)
  const curves = growth === 'exponential' ? [exponentialCrossing(points, limit), linearCrossing(points, limit)] : [linearCrossing(points, limit), ...(points.every((point) => point.value > 0) ? [exponentialCrossing(points, limit)] : [])]
  if (points.length < MIN_POINTS.ets || sampleStandardDeviation(points.map((point) => point.value)) === 0) return curves
  return [...curves, await etsCrossing(points, limit, horizonDays)]
}
