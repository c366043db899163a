/**
 * Calls `tick` every `intervalMs` while `active()` is true: one call at a time (the next is
 * scheduled when the previous one ended), stopped when `active()` turns false, started again
 * when it turns true, and stopped for good when the component unmounts (the page is left).
 */
export function usePolling(tick: () => Promise<void>, active: () => boolean, intervalMs = 2_000) {
  const polling = ref(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let busy = false;
  let disposed = false;

  function schedule() {
    clearTimeout(timer);
    timer = undefined;
    if (disposed || busy || !active()) {
      polling.value = !disposed && busy;
      return;
    }
    polling.value = true;
    timer = setTimeout(run, intervalMs);
  }

  async function run() {
    timer = undefined;
    busy = true;
    try {
      await tick();
    } catch {
      // the tick shows its own errors; keep polling
    } finally {
      busy = false;
      schedule();
    }
  }

  watch(active, (now) => {
    if (now && !timer && !busy) schedule();
    if (!now) schedule();
  });

  onMounted(schedule);
  onBeforeUnmount(() => {
    disposed = true;
    clearTimeout(timer);
    polling.value = false;
  });

  return { polling, restart: schedule };
}
