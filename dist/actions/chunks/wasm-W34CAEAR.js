import { createRequire as __rolloutCreateRequire } from 'node:module'; const require = __rolloutCreateRequire(import.meta.url);
import{a}from"./chunk-ZYJ62QSK.js";import"./chunk-O4R4LTYK.js";export default a();
