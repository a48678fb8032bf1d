// `express4` is Express 4 installed under an npm alias for the Express 4 suite; its API is the
// subset of Express 5's that the adapter and the test app use.
declare module 'express4' {
  import express from 'express';
  export default express;
}
