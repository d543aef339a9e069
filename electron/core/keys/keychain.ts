/**
 * An OS keychain that can encrypt a small secret for this user and machine.
 * Electron's `safeStorage` implements it in electron/main; the core never
 * imports Electron.
 */
export interface KeychainAdapter {
  /** Backend name as the OS reports it (e.g. `gnome_libsecret`, `basic_text`). */
  readonly backend: string;
  /**
   * False when the backend offers no real protection (Linux `basic_text` uses a
   * hard-coded password): such a keychain never protects a profile on its own.
   */
  readonly isSecure: boolean;
  encrypt(secret: Uint8Array): Promise<Uint8Array>;
  decrypt(blob: Uint8Array): Promise<Uint8Array>;
}
