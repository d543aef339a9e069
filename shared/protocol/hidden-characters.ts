// Characters that change how text around them reads without being seen: C0,
// DEL and C1 controls, the bidirectional marks, embeddings, overrides and
// isolates ("invoice\u202efdp.exe" shows as "invoiceexe.pdf"), line and
// paragraph separators and the BOM. A name someone else chose (a file name in
// a pointer) is shown and written without them.

/** Every hidden character (global: for replace). */
export const HIDDEN_CHARACTERS =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]/g;
