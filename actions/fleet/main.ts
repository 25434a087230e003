// The fleet action: plan a wave's job matrix, apply one shard of it, or aggregate the shards' reports.
import { fleetStep, parseFleetInputs } from '../github/fleet.ts';
import { runAction } from '../github/run.ts';

await runAction(process.env, async (runtime) => {
  const inputs = parseFleetInputs(process.env);
  const step = await fleetStep(inputs, process.env, runtime);
  if (step.command === 'matrix') {
    runtime.setOutput('matrix', JSON.stringify(step.matrix.matrix));
    runtime.setOutput('ready', step.matrix.ready);
    runtime.setOutput('wave', step.matrix.wave ?? '');
    runtime.setOutput('waiting-until', step.matrix.waiting_until ?? '');
    runtime.setOutput('fleet-plan-hash', step.matrix.fleet_plan_hash);
  } else if (step.command === 'apply') {
    runtime.setOutput('report-path', inputs.reportPath);
    runtime.setOutput('failed', step.report.targets.filter((t) => t.outcome === 'failed' || t.outcome === 'reverted').length);
    // Failures within budget are the aggregating job's to weigh across shards; a shard over it already stopped.
    if (step.report.stopped) runtime.setFailed(`wave ${step.report.stopped.wave} of ${inputs.environment}: ${step.report.stopped.failures} failed target(s) in this shard alone spend its budget; the shard stopped.`);
  } else {
    runtime.setOutput('next', step.next);
    if (step.next === 'stop') runtime.setFailed(`${step.report.stopped?.wave ?? inputs.wave} spent its failure budget: the rollout of ${inputs.environment} stops here.`);
  }
});
