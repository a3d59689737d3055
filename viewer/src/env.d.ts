/** CSS imported for the bundle (esbuild emits it as main.css). */
declare module '*.css';
