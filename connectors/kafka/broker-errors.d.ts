/** See broker-errors.js. */
export declare function isBrokerUnreachable(error: unknown): boolean;
export declare function isConnectionNoise(text: string): boolean;
