import { client, expectNothingAppended } from '../support/http';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * Editing, cancelling and reassigning tasks over HTTP (docs/http-api.md): PATCH /tasks/:id,
 * POST /tasks/:id/cancel, POST /tasks/:id/owner. A rep edits and cancels only its own tasks and
 * reassigns none (managers and admins do); a closed task accepts no change; every refusal names
 * the problem and appends nothing.
 */
let t: TestApp;
let manager: ReturnType<typeof client>;
let rep: ReturnType<typeof client>;

beforeAll(async () => {
  t = await startTestApp();
  manager = client(t, 'manager');
  rep = client(t, 'rep');
});
afterAll(() => t?.close());

async function newTask(ownerId: string, body: object = {}): Promise<string> {
  const res = await manager.post('/tasks', { subject: 'Call back', dueAt: '2030-01-10T09:00:00Z', ownerId, ...body });
  if (res.status !== 201) throw new Error(`fixture: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}
const types = async (taskId: string) => (await t.events(`task-${taskId}`)).map((e) => e.type);

describe('tasks: edit, cancel, reassign', () => {
  it('PATCH /tasks/:id changes the subject and the due date (TaskUpdated, with the due date replaced); the read model shows them', async () => {
    const id = await newTask(t.actors.rep);
    const res = await rep.patch(`/tasks/${id}`, { subject: 'Send the revised proposal', dueAt: '2030-01-12T10:00:00+02:00' });
    expect(res.status).toBe(200);
    const events = await t.events(`task-${id}`);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      ['TaskCreated', expect.anything()],
      [
        'TaskUpdated',
        { taskId: id, subject: 'Send the revised proposal', dueAt: '2030-01-12T08:00:00.000Z', previousDueAt: '2030-01-10T09:00:00.000Z' },
      ],
    ]);
    expect((await rep.latest(`/tasks/${id}`)).body).toMatchObject({
      subject: 'Send the revised proposal',
      dueAt: '2030-01-12T08:00:00.000Z',
      status: 'open',
    });
    // The same values again: nothing to record.
    const same = await expectNothingAppended(t, () => rep.patch(`/tasks/${id}`, { subject: 'Send the revised proposal' }));
    expect(same.status).toBe(200);
  });

  it('POST /tasks/:id/cancel closes it (status cancelled); a closed task accepts no change (422, nothing appended)', async () => {
    const id = await newTask(t.actors.rep);
    expect((await rep.post(`/tasks/${id}/cancel`, { reason: 'the customer called first' })).status).toBe(200);
    expect((await rep.latest(`/tasks/${id}`)).body).toMatchObject({ status: 'cancelled', cancelReason: 'the customer called first' });
    expect((await rep.latest('/tasks?status=cancelled')).body.items.map((i: { id: string }) => i.id)).toContain(id);
    for (const [method, url, body] of [
      ['patch', `/tasks/${id}`, { subject: 'Again' }],
      ['post', `/tasks/${id}/cancel`, {}],
      ['post', `/tasks/${id}/complete`, {}],
      ['post', `/tasks/${id}/owner`, { ownerId: 'rep-third' }],
    ] as const) {
      const res = await expectNothingAppended(t, () => (method === 'patch' ? manager.patch(url, body) : manager.post(url, body)));
      expect([url, res.status, res.body.message]).toEqual([url, 422, `task-${id} is cancelled; a closed task accepts no change`]);
    }
    const done = await newTask(t.actors.rep);
    await rep.post(`/tasks/${done}/complete`, {});
    const edit = await expectNothingAppended(t, () => rep.patch(`/tasks/${done}`, { subject: 'Again' }));
    expect([edit.status, edit.body.message]).toEqual([422, `task-${done} is completed; a closed task accepts no change`]);
  });

  it('POST /tasks/:id/owner: managers reassign (TaskReassigned); a rep may not, even its own task (403, nothing appended)', async () => {
    const id = await newTask(t.actors.rep);
    const refused = await expectNothingAppended(t, () => rep.post(`/tasks/${id}/owner`, { ownerId: 'rep-third' }));
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain('may not manage');
    expect((await manager.post(`/tasks/${id}/owner`, { ownerId: 'rep-third' })).status).toBe(200);
    expect((await t.events(`task-${id}`)).at(-1)).toMatchObject({
      type: 'TaskReassigned',
      data: { taskId: id, ownerId: 'rep-third', previousOwnerId: t.actors.rep },
    });
    expect((await manager.latest(`/tasks/${id}`)).body.ownerId).toBe('rep-third');
    // No longer the rep's: it may neither read, edit nor cancel it.
    expect((await rep.latest(`/tasks/${id}`)).status).toBe(403);
    expect((await expectNothingAppended(t, () => rep.patch(`/tasks/${id}`, { subject: 'Mine?' }))).status).toBe(403);
    expect((await expectNothingAppended(t, () => rep.post(`/tasks/${id}/cancel`, {}))).status).toBe(403);
    // The same owner again: nothing to record.
    expect((await expectNothingAppended(t, () => manager.post(`/tasks/${id}/owner`, { ownerId: 'rep-third' }))).status).toBe(200);
  });

  it("a rep edits and cancels only its own tasks: another owner's are a 403 with nothing appended", async () => {
    const theirs = await newTask('rep-other');
    for (const send of [() => rep.patch(`/tasks/${theirs}`, { subject: 'x' }), () => rep.post(`/tasks/${theirs}/cancel`, {})]) {
      const res = await expectNothingAppended(t, send);
      expect([res.status, res.body.message]).toEqual([403, expect.stringContaining('owned by someone else')]);
    }
    expect(await types(theirs)).toEqual(['TaskCreated']);
  });

  it("an edited subject is the customer's personal data: sealed with their key, erased with them", async () => {
    const customer = (await manager.post('/customers', { name: 'Ada Lovelace', source: 'web' })).body.id as string;
    const id = await newTask(t.actors.manager, { customerId: customer });
    expect((await manager.patch(`/tasks/${id}`, { subject: 'Email Ada about the engine' })).status).toBe(200);
    expect((await t.events(`task-${id}`)).at(-1)).toMatchObject({ data: { subject: 'Email Ada about the engine', customerId: customer } });
    expect((await manager.delete(`/customers/${customer}/personal-data`)).status).toBeLessThan(300);
    expect((await t.events(`task-${id}`)).map((e) => (e.data as { subject?: string }).subject)).toEqual(['[erased]', '[erased]']);
    expect((await manager.latest(`/tasks/${id}`)).body.subject).toBe('[erased]');
  });

  it('a 4xx naming the problem for each bad input, with nothing appended', async () => {
    const id = await newTask(t.actors.rep);
    const cases: Array<[string, 'patch' | 'post', string, object, number, string]> = [
      ['nothing to change', 'patch', `/tasks/${id}`, {}, 400, 'subject'],
      ['an empty subject', 'patch', `/tasks/${id}`, { subject: '' }, 400, 'subject'],
      ['a subject too long', 'patch', `/tasks/${id}`, { subject: 'x'.repeat(501) }, 400, 'subject'],
      ['a due date that is not one', 'patch', `/tasks/${id}`, { dueAt: 'tomorrow' }, 400, 'dueAt'],
      ['an impossible due date', 'patch', `/tasks/${id}`, { dueAt: '2030-02-30' }, 400, 'dueAt'],
      ['an unknown field', 'patch', `/tasks/${id}`, { ownerId: 'rep-third' }, 400, 'ownerId'],
      ['an empty reason', 'post', `/tasks/${id}/cancel`, { reason: '' }, 400, 'reason'],
      ['no owner', 'post', `/tasks/${id}/owner`, {}, 400, 'ownerId'],
      ['an empty owner', 'post', `/tasks/${id}/owner`, { ownerId: '' }, 400, 'ownerId'],
      ['an id that is not a UUID', 'patch', '/tasks/not-a-uuid', { subject: 'x' }, 400, 'id'],
      ['an unknown task', 'patch', '/tasks/00000000-0000-4000-8000-000000000000', { subject: 'x' }, 404, 'does not exist'],
      ['an unknown task to cancel', 'post', '/tasks/00000000-0000-4000-8000-000000000000/cancel', {}, 404, 'does not exist'],
      [
        'a change dated before the last one',
        'patch',
        `/tasks/${id}`,
        { subject: 'x', occurredAt: '2020-01-01T00:00:00Z' },
        422,
        'occurredAt',
      ],
    ];
    for (const [name, method, url, body, status, names] of cases) {
      const res = await expectNothingAppended(t, () => manager[method](url, body));
      expect([name, res.status]).toEqual([name, status]);
      expect([name, JSON.stringify(res.body.message)]).toEqual([name, expect.stringContaining(names)]);
    }
    expect(await types(id)).toEqual(['TaskCreated']);
  });
});
