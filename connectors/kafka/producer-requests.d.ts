/** See producer-requests.js. */
export declare function producerRequests(config: {
  brokers: string[];
  clientId: string;
  ssl?: unknown;
  sasl?: unknown;
}): (request: Record<string, unknown>) => Promise<{ error?: string; unreachable?: boolean }>;
