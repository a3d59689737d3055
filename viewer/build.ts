/** `npm run build:viewer`: bundle the viewer into viewer/dist/ (see src/server/viewer-build.ts). */
import { buildViewer, findViewerDir } from '../src/server/viewer-build.js';

const build = await buildViewer(findViewerDir());
console.log(`viewer built in ${build.ms.toFixed(0)} ms: ${build.files.join(', ')}`);
