/**
 * Infrastructure faults of the fake gateway, decided once per request before it is handled:
 * latency, an answer that never comes (the request *was* processed: the "unknown outcome" the
 * billing client must reconcile), and 5xx answers without an XML body.
 */
import { z } from 'zod';
import type { Random } from './random';

export const GATEWAY_ENDPOINTS = ['process', 'reconcile', 'reconcile_by_date', 'chargebacks', 'chargebacks_by_date', 'wpf_reconcile'] as const;
export type GatewayEndpoint = (typeof GATEWAY_ENDPOINTS)[number];

const rate = z.number().min(0).max(1);

export const faultSettingsSchema = z.object({
  /** Added before every answer: fixed, or uniform in [min, max]. */
  latencyMs: z.union([z.number().min(0), z.object({ min: z.number().min(0), max: z.number().min(0) })]).optional(),
  /** Fraction of requests that are processed but never answered. */
  timeoutRate: rate.optional(),
  /** Fraction of requests answered 5xx without an XML body, before any processing. */
  serverErrorRate: rate.optional(),
  /** Endpoints the rates apply to; all when absent. */
  endpoints: z.array(z.enum(GATEWAY_ENDPOINTS)).optional(),
  /** How long an unanswered request is held open unless the client gives up first. */
  hangMs: z.number().min(0).optional(),
});

export type FaultSettings = z.infer<typeof faultSettingsSchema>;

/** A fault for the next `count` matching requests, taking precedence over the rates. */
export const injectedFaultSchema = z.object({
  kind: z.enum(['hang', 'server_error']),
  endpoint: z.enum(GATEWAY_ENDPOINTS).optional(),
  count: z.number().int().min(1).optional(),
  /** HTTP status of a server error; 503 by default. */
  status: z.number().int().min(500).max(599).optional(),
  /** Whether the request is processed before the fault strikes: hangs by default, server errors not. */
  afterProcessing: z.boolean().optional(),
});

export type InjectedFault = z.infer<typeof injectedFaultSchema>;

export interface FaultDecision {
  kind: 'none' | 'hang' | 'server_error';
  status: number;
  afterProcessing: boolean;
  latencyMs: number;
  hangMs: number;
}

const DEFAULT_HANG_MS = 5 * 60_000;

export class FaultPlan {
  private settings: FaultSettings;
  private injected: Array<Required<Omit<InjectedFault, 'endpoint'>> & { endpoint?: GatewayEndpoint }> = [];

  constructor(
    settings: FaultSettings,
    private readonly random: Random,
  ) {
    this.settings = { ...settings };
  }

  configure(settings: FaultSettings): void {
    this.settings = { ...settings };
  }

  current(): { settings: FaultSettings; injected: InjectedFault[] } {
    return { settings: { ...this.settings }, injected: this.injected.map((fault) => ({ ...fault })) };
  }

  inject(fault: InjectedFault): void {
    this.injected.push({
      kind: fault.kind,
      endpoint: fault.endpoint,
      count: fault.count ?? 1,
      status: fault.status ?? 503,
      afterProcessing: fault.afterProcessing ?? fault.kind === 'hang',
    });
  }

  clear(settings: FaultSettings = {}): void {
    this.settings = { ...settings };
    this.injected = [];
  }

  next(endpoint: GatewayEndpoint): FaultDecision {
    const hangMs = this.settings.hangMs ?? DEFAULT_HANG_MS;
    const latencyMs = this.latency();
    const injected = this.injected.find((fault) => !fault.endpoint || fault.endpoint === endpoint);
    if (injected) {
      injected.count--;
      if (injected.count <= 0) this.injected.splice(this.injected.indexOf(injected), 1);
      return { kind: injected.kind, status: injected.status, afterProcessing: injected.afterProcessing, latencyMs, hangMs };
    }
    const applies = !this.settings.endpoints || this.settings.endpoints.includes(endpoint);
    const roll = this.random();
    const serverErrorRate = applies ? (this.settings.serverErrorRate ?? 0) : 0;
    const timeoutRate = applies ? (this.settings.timeoutRate ?? 0) : 0;
    if (roll < serverErrorRate) return { kind: 'server_error', status: 503, afterProcessing: false, latencyMs, hangMs };
    if (roll < serverErrorRate + timeoutRate) return { kind: 'hang', status: 200, afterProcessing: true, latencyMs, hangMs };
    return { kind: 'none', status: 200, afterProcessing: false, latencyMs, hangMs };
  }

  private latency(): number {
    const latency = this.settings.latencyMs;
    if (latency === undefined) return 0;
    if (typeof latency === 'number') return latency;
    return latency.min + this.random() * (latency.max - latency.min);
  }
}
