import { JobSlots } from './job-slots';

describe('JobSlots', () => {
  let held: number;
  let applied: number[];
  let slots: JobSlots;

  beforeEach(() => {
    held = 0;
    applied = [];
    slots = new JobSlots(
      64,
      16,
      () => held,
      (n) => applied.push(n),
    );
  });

  /** BullMQ fetches a job and starts it, `others` jobs being in the processor already. */
  const takes = (others: number) => {
    slots.fetched();
    slots.jobStarting(others);
  };

  it('starts idle with one slot', () => {
    expect(slots.value).toBe(1);
  });

  it('keeps one slot for a job that wakes an idle worker, before and after it completes', () => {
    takes(0);
    expect(slots.value).toBe(1);
    slots.jobFinished(0);
    slots.drained(0); // the completion found no next job
    expect(slots.value).toBe(1);
    takes(0);
    expect(slots.value).toBe(1);
    expect(applied.every((n) => n === 1)).toBe(true);
  });

  it('opens every slot for a job that starts while another is held', () => {
    takes(0);
    takes(1);
    expect(slots.value).toBe(64);
    expect(applied.at(-1)).toBe(64);
  });

  it('opens every slot for a job handed over with the previous completion (no empty queue seen in between)', () => {
    takes(0);
    slots.jobFinished(0);
    expect(slots.value).toBe(1);
    takes(0);
    expect(slots.value).toBe(64);
  });

  it('stays busy while jobs are held, whatever BullMQ finds in the queue, and goes idle with the last one', () => {
    takes(0);
    takes(1);
    slots.drained(2);
    expect(slots.value).toBe(64);
    // Two more fetched before the next drain, started after it.
    slots.fetched();
    slots.fetched();
    slots.drained(2);
    slots.jobStarting(2);
    slots.jobStarting(3);
    for (const left of [3, 2, 1]) {
      slots.jobFinished(left);
      expect(slots.value).toBe(64);
    }
    slots.jobFinished(0);
    expect(slots.value).toBe(1);
  });

  it('stays busy when the last job leaves without an empty queue seen since the last fetch, until BullMQ finds it empty', () => {
    takes(0);
    takes(1);
    slots.jobFinished(1);
    slots.jobFinished(0);
    expect(slots.value).toBe(64);
    slots.drained(0);
    expect(slots.value).toBe(1);
  });

  it('busy, a full batch waiting lowers the slots to the jobs held; idle, it stays one', () => {
    takes(0);
    takes(1);
    held = 3;
    slots.backlog(16);
    expect(applied.at(-1)).toBe(3);
    slots.backlog(15);
    expect(applied.at(-1)).toBe(64);
    held = 0;
    slots.jobFinished(0);
    slots.drained(0);
    slots.backlog(40);
    expect(applied.at(-1)).toBe(1);
  });
});
