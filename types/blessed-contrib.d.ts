// blessed-contrib ships no types and none are published; this is the one untyped edge we allow.
declare module 'blessed-contrib' {
  const contrib: any;
  export = contrib;
}
