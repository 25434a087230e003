import { createRequire as __rolloutCreateRequire } from 'node:module'; import { dirname as __rolloutDirname } from 'node:path'; import { fileURLToPath as __rolloutFileURLToPath } from 'node:url'; const require = __rolloutCreateRequire(import.meta.url); const __filename = __rolloutFileURLToPath(import.meta.url); const __dirname = __rolloutDirname(__filename);
import{E as g,a as c,h as m,i as f,k as d}from"./chunks/chunk-LRJKBOMK.js";import"./chunks/chunk-O3TVQ2MX.js";import"./chunks/chunk-XSTJRZH5.js";import"./chunks/chunk-KVNHJ3SL.js";import{execFile as y}from"node:child_process";import{join as w,relative as $}from"node:path";var b=/^(migrations|contracts|checks)\/|^rollout\.ya?ml$/;async function u(e,r,t){let n=g(e.root,{only:e.environments}),o=i=>$(t,w(e.root,i))||i,s=n.problems.map(i=>({...i,file:o(i.file)}));r.command(m(s,"github"));let a=[...n.files.keys()],p=a.filter(i=>n.files.get(i)?.environment?.database.kind==="url"),v=e.baseSha?await R(e.root,e.baseSha,r):null,l=s.filter(i=>i.severity==="error").length,h=s.length-l;return await r.summary(P(s,a)),{environments:a,affected:S(v,p),errors:l,warnings:h,failed:e.strict?s.length>0:d(s)}}function S(e,r){if(e===null||e.some(n=>b.test(n)))return[...r];let t=new Set(e.map(n=>/^environments\/([^/]+)\.ya?ml$/.exec(n)?.[1]).filter(n=>n!==void 0));return r.filter(n=>t.has(n))}function P(e,r){if(e.length===0)return`### rollout validate

\u2713 ${r.length} environment(s) valid: ${r.map(o=>`\`${o}\``).join(", ")}
`;let t=o=>o.replace(/\|/g,"\\|").replace(/\r?\n/g,"<br>"),n=e.map(o=>`| \`${t(o.file)}:${o.line}:${o.column}\` | ${o.severity==="error"?"\u26D4 error":"\u26A0\uFE0F warning"} | ${t(o.message)} |`);return`### rollout validate

${e.length} problem(s):

| where | severity | problem |
| --- | --- | --- |
${n.join(`
`)}
`}function R(e,r,t){return new Promise(n=>{y("git",["diff","--name-only","--relative",r,"HEAD","--"],{cwd:e},(o,s)=>{o?(t.warning(`Could not list the files changed since ${r.slice(0,12)} (fetch it with actions/checkout fetch-depth: 0); treating every environment as affected.`),n(null)):n(s.split(`
`).filter(a=>a!==""))})})}await f(process.env,async e=>{let r=c(process.env),t=await u(r,e,process.env.GITHUB_WORKSPACE??process.cwd());e.setOutput("environments",JSON.stringify(t.environments)),e.setOutput("affected-environments",JSON.stringify(t.affected)),e.setOutput("errors",t.errors),e.setOutput("warnings",t.warnings),t.failed&&e.setFailed(`${t.errors} error(s) and ${t.warnings} warning(s) in the environment files; each is annotated on its line.`)});
