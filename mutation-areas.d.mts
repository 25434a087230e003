export declare const areas: Record<string, { mutate: string[]; tests: string[] }>;
export declare function currentArea(): { name: string; mutate: string[]; tests: string[] };
