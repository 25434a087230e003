import { createRequire as __rolloutCreateRequire } from 'node:module'; import { dirname as __rolloutDirname } from 'node:path'; import { fileURLToPath as __rolloutFileURLToPath } from 'node:url'; const require = __rolloutCreateRequire(import.meta.url); const __filename = __rolloutFileURLToPath(import.meta.url); const __dirname = __rolloutDirname(__filename);
var a=t=>`<!-- rollout:plan:${t} -->`,u=t=>`<!-- rollout:health:${t} -->`,f=(t,n)=>`<!-- rollout:break-glass:${t}:${n} -->`;function x(t,n,h,s=65536){let r=`${t}
`;if(r.length+n.length<=s)return r+n;let g=`

**Cut short:** this is longer than GitHub allows in a comment (${s.toLocaleString("en-US")} characters). The whole text is in the [job summary](${h}).
`,i="\n```",o=s-r.length-g.length-i.length,e=n.lastIndexOf(`
`,o);e<o/2&&(e=o);let c=n.charCodeAt(e-1);c>=55296&&c<=56319&&(e-=1);let l=n.slice(0,e);return(l.match(/^```/gm)??[]).length%2===1&&(l+=i),r+l+g}export{a,u as b,f as c,x as d};
