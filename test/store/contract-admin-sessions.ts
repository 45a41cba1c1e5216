import type { AdminSession, Store } from '../../src/store/store';

/** /admin sessions kept in the store (CONTRACT.md: logging out ends that session on the server). */
export function adminSessionsContract(store: () => Store): void {
  describe('admin sessions', () => {
    const session = (idHash: string, over: Partial<AdminSession> = {}): AdminSession => ({
      idHash,
      tokenCheck: 'check-a',
      createdAt: 1000,
      expiresAt: 1000 + 12 * 3600_000,
      ...over,
    });

    it('a started session is active until it expires, and only for its own token', async () => {
      await store().startAdminSession(session('h1'));
      expect(await store().adminSessionActive('h1', 'check-a', 1000)).toBe(true);
      expect(await store().adminSessionActive('h1', 'check-a', 1000 + 12 * 3600_000 - 1)).toBe(true);
      expect(await store().adminSessionActive('h1', 'check-a', 1000 + 12 * 3600_000)).toBe(false);
      expect(await store().adminSessionActive('h1', 'check-b', 1000)).toBe(false);
      expect(await store().adminSessionActive('h2', 'check-a', 1000)).toBe(false);
    });

    it('ending one session leaves the others active', async () => {
      await store().startAdminSession(session('h1'));
      await store().startAdminSession(session('h2'));
      expect(await store().endAdminSession('h1')).toBe(true);
      expect(await store().endAdminSession('h1')).toBe(false);
      expect(await store().adminSessionActive('h1', 'check-a', 2000)).toBe(false);
      expect(await store().adminSessionActive('h2', 'check-a', 2000)).toBe(true);
    });

    it('refuses a second session with the same id', async () => {
      await store().startAdminSession(session('h1'));
      // (Not `rejects.toThrow()`: a better-sqlite3 error may come from another test file's realm, which jest does not take for an Error.)
      const second = await store().startAdminSession(session('h1', { tokenCheck: 'check-b' })).then(
        () => 'started',
        () => 'refused',
      );
      expect(second).toBe('refused');
      expect(await store().adminSessionActive('h1', 'check-a', 2000)).toBe(true);
    });

    it('prunes the expired sessions and those of another token, keeping the rest', async () => {
      await store().startAdminSession(session('expired', { expiresAt: 5000 }));
      await store().startAdminSession(session('old-token', { tokenCheck: 'check-old' }));
      await store().startAdminSession(session('current'));
      expect(await store().pruneAdminSessions(5000, 'check-a')).toBe(2);
      expect(await store().pruneAdminSessions(5000, 'check-a')).toBe(0);
      expect(await store().adminSessionActive('current', 'check-a', 5000)).toBe(true);
      // Even were the old token set again, its sessions are gone.
      expect(await store().adminSessionActive('old-token', 'check-old', 5000)).toBe(false);
    });

    it('keeps sessions across a migrate', async () => {
      await store().startAdminSession(session('h1'));
      await store().migrate();
      expect(await store().adminSessionActive('h1', 'check-a', 2000)).toBe(true);
    });
  });
}
