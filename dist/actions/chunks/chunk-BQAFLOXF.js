import { createRequire as __rolloutCreateRequire } from 'node:module'; import { dirname as __rolloutDirname } from 'node:path'; import { fileURLToPath as __rolloutFileURLToPath } from 'node:url'; const require = __rolloutCreateRequire(import.meta.url); const __filename = __rolloutFileURLToPath(import.meta.url); const __dirname = __rolloutDirname(__filename);
var h=t=>`<!-- rollout:plan:${t} -->`,u=t=>`<!-- rollout:health:${t} -->`,b=(t,n)=>`<!-- rollout:break-glass:${t}:${n} -->`,x=(t,n)=>`<!-- rollout:auto-rollback:${t}:${n} -->`;function f(t,n,c,s=65536){let e=`${t}
`;if(e.length+n.length<=s)return e+n;let g=`

**Cut short:** this is longer than GitHub allows in a comment (${s.toLocaleString("en-US")} characters). The whole text is in the [job summary](${c}).
`,i="\n```",o=s-e.length-g.length-i.length,r=n.lastIndexOf(`
`,o);r<o/2&&(r=o);let a=n.charCodeAt(r-1);a>=55296&&a<=56319&&(r-=1);let l=n.slice(0,r);return(l.match(/^```/gm)??[]).length%2===1&&(l+=i),e+l+g}export{h as a,u as b,b as c,x as d,f as e};
