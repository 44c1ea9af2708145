/** Every scenario by its command-line name (`options.ts`' `ALL_SCENARIOS`): what `run.ts` and the profiler run. */
import type { Bench, ScenarioResult } from '../context.js';
import type { ScenarioName } from '../driver/options.js';
import { bundleScenario } from './bundle.js';
import { fanoutScenario } from './fanout.js';
import { evictionScenario, keepaliveScenario } from './idle.js';
import { memoryScenario } from './memory.js';
import { presenceScenario } from './presence.js';
import { rpcScenario } from './rpc.js';
import { shardsScenario } from './shards.js';
import { soakScenario } from './soak.js';
import { stormScenario } from './storm.js';

export const SCENARIO_RUNNERS: Record<ScenarioName, (bench: Bench) => Promise<ScenarioResult>> = {
	rpc: (bench) => rpcScenario(bench, 'sequential'),
	concurrent: (bench) => rpcScenario(bench, 'concurrent'),
	'fanout-saturated': (bench) => fanoutScenario(bench, 'saturated'),
	'fanout-paced': (bench) => fanoutScenario(bench, 'paced'),
	storm: stormScenario,
	memory: memoryScenario,
	eviction: evictionScenario,
	keepalive: keepaliveScenario,
	bundle: bundleScenario,
	soak: soakScenario,
	presence: presenceScenario,
	shards: shardsScenario,
};
