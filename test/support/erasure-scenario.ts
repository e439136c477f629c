import { randomUUID } from 'node:crypto';
import { client } from './http';
import type { TestApp } from './test-app';

/** Reports and the parameters they are compared with, before and after an erasure. */
export const REPORT_URLS = [
  'activity',
  'cac',
  'churn',
  'conversion',
  'customer-value',
  'lead-sources',
  'lost-deals',
  'sales-cycle',
  'sales-performance',
]
  .map((name) => `/reports/${name}?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z&interval=quarter`)
  .concat(['/reports/pipeline?asOf=2024-12-31T00:00:00Z', '/reports/forecast']);

export interface ErasureScenario {
  /** The distinctive email of the customer to erase (and of the lead it came from). */
  email: string;
  leadEmail: string;
  customerId: string;
  leadId: string;
  /** Two more leads converted into the customer once it existed (the same person), and their emails. */
  linkedLeadIds: string[];
  linkedLeadEmails: string[];
  /**
   * Free text about the person (interaction subjects and outcomes, a purchase description, task
   * subjects and an outcome, a lead interaction), each naming them or carrying their email or phone.
   */
  freeText: string[];
  /** The one of them no read model shows (a lead interaction's subject: only in the event store). */
  leadInteractionSubject: string;
  /** Tasks about the person (the customer's and the lead's) and one about no one, which keeps its subject. */
  personTaskIds: string[];
  keptTaskId: string;
  keptTaskSubject: string;
  /** A customer that is not erased, with an email of its own. */
  keptEmail: string;
  keptId: string;
}

/**
 * The scenario: a customer with a distinctive email converted from a lead, with
 * interactions, a purchase, tasks and a won deal, all with free text naming them, and two more
 * leads converted into them later; another customer stays. Returns their ids, emails and texts.
 */
export async function seedErasureScenario(t: TestApp): Promise<ErasureScenario> {
  const manager = client(t, 'manager');
  const tag = randomUUID().slice(0, 8);
  const email = `ada.lovelace.${tag}@engines.example`;
  const leadEmail = `lead.${email}`;
  const keptEmail = `grace.hopper.${tag}@navy.example`;
  const ok = async (response: Promise<{ status: number; body: any }>, status: number) => {
    const r = await response;
    if (r.status !== status) throw new Error(`expected ${status}, got ${r.status}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  const freeText = {
    leadInteraction: `Ada Lovelace asked for a demo`,
    interactions: [0, 1, 2].map((i) => ({ subject: `Follow-up ${i}: call Ada Lovelace`, outcome: `Ada Lovelace answered from ${email}` })),
    purchase: `Punched cards for ${email}`,
    customerTask: `Call Ada Lovelace on +44 20 7946 0001`,
    customerTaskOutcome: `Ada Lovelace will mail ${email}`,
    leadTask: `Email ${leadEmail} the brochure`,
  };
  const lead = await ok(
    manager.post('/leads', {
      name: 'Ada Lovelace',
      email: leadEmail,
      source: 'webinar',
      attributes: { notes: `call ${email}` },
      occurredAt: '2024-01-02T00:00:00Z',
    }),
    201,
  );
  await ok(
    manager.post(`/leads/${lead.id}/interactions`, {
      type: 'form-submission',
      subject: freeText.leadInteraction,
      occurredAt: '2024-01-02T01:00:00Z',
    }),
    201,
  );
  const leadTask = await ok(
    manager.post('/tasks', {
      subject: freeText.leadTask,
      dueAt: '2024-01-09T00:00:00Z',
      leadId: lead.id,
      occurredAt: '2024-01-02T02:00:00Z',
    }),
    201,
  );
  const converted = await ok(manager.post(`/leads/${lead.id}/convert`, { occurredAt: '2024-01-03T00:00:00Z' }), 200);
  const customerId = converted.customerId as string;
  await ok(
    manager.patch(`/customers/${customerId}`, { email, phone: '+44 20 7946 0001', region: 'EU', occurredAt: '2024-01-04T00:00:00Z' }),
    200,
  );
  for (const [i, type] of ['call', 'email', 'meeting'].entries()) {
    await ok(
      manager.post(`/customers/${customerId}/interactions`, {
        type,
        direction: 'outbound',
        ...freeText.interactions[i],
        occurredAt: `2024-02-0${i + 1}T00:00:00Z`,
      }),
      201,
    );
  }
  const deal = await ok(
    manager.post('/deals', { customerId, title: 'Difference engine', amount: 1200, occurredAt: '2024-03-01T00:00:00Z' }),
    201,
  );
  await ok(manager.post(`/deals/${deal.id}/win`, { occurredAt: '2024-04-01T00:00:00Z' }), 200);
  await ok(
    manager.post(`/customers/${customerId}/purchases`, { amount: 300, description: freeText.purchase, occurredAt: '2024-05-01T00:00:00Z' }),
    201,
  );
  const customerTask = await ok(
    manager.post('/tasks', {
      subject: freeText.customerTask,
      dueAt: '2024-05-10T00:00:00Z',
      customerId,
      dealId: deal.id,
      occurredAt: '2024-05-02T00:00:00Z',
    }),
    201,
  );
  await ok(
    manager.post(`/tasks/${customerTask.id}/complete`, { outcome: freeText.customerTaskOutcome, occurredAt: '2024-05-03T00:00:00Z' }),
    200,
  );
  const keptTaskSubject = 'Review the difference engine pricing';
  const keptTask = await ok(
    manager.post('/tasks', {
      subject: keptTaskSubject,
      dueAt: '2024-05-10T00:00:00Z',
      dealId: deal.id,
      occurredAt: '2024-05-02T00:00:00Z',
    }),
    201,
  );
  // The same person again, as two more leads converted into the customer once it existed.
  const linkedLeadEmails = [`augusta.ada.${tag}@byron.example`, `a.king.${tag}@lovelace.example`];
  const linkedLeadIds: string[] = [];
  for (const [i, leadMail] of linkedLeadEmails.entries()) {
    const again = await ok(
      manager.post('/leads', {
        name: i === 0 ? 'Augusta Ada Byron' : 'Ada King',
        email: leadMail,
        source: 'ads',
        occurredAt: `2024-06-0${i + 1}T00:00:00Z`,
      }),
      201,
    );
    await ok(manager.post(`/leads/${again.id}/convert`, { customerId, occurredAt: `2024-06-0${i + 1}T01:00:00Z` }), 200);
    linkedLeadIds.push(again.id);
  }

  const kept = await ok(
    manager.post('/customers', { name: 'Grace Hopper', email: keptEmail, source: 'ads', occurredAt: '2024-01-05T00:00:00Z' }),
    201,
  );
  await ok(manager.post(`/customers/${kept.id}/purchases`, { amount: 50, occurredAt: '2024-06-01T00:00:00Z' }), 201);
  await ok(manager.post(`/customers/${kept.id}/churn`, { reason: 'price', occurredAt: '2024-07-01T00:00:00Z' }), 200);
  await ok(manager.post('/spend', { amount: 400, category: 'marketing', channel: 'webinar', occurredAt: '2024-01-10T00:00:00Z' }), 201);
  return {
    email,
    leadEmail,
    customerId,
    leadId: lead.id,
    linkedLeadIds,
    linkedLeadEmails,
    freeText: [
      freeText.leadInteraction,
      ...freeText.interactions.flatMap((t) => [t.subject, t.outcome]),
      freeText.purchase,
      freeText.customerTask,
      freeText.customerTaskOutcome,
      freeText.leadTask,
    ],
    leadInteractionSubject: freeText.leadInteraction,
    personTaskIds: [customerTask.id, leadTask.id],
    keptTaskId: keptTask.id,
    keptTaskSubject,
    keptEmail,
    keptId: kept.id,
  };
}

/** Every report once the projections have caught up, without personal text (customer-value names) or the time it was computed. */
export async function reportFigures(t: TestApp): Promise<Record<string, unknown>> {
  const manager = client(t, 'manager');
  const figures: Record<string, unknown> = {};
  for (const url of REPORT_URLS) {
    const r = await manager.latest(url);
    if (r.status !== 200) throw new Error(`${url}: ${r.status} ${JSON.stringify(r.body)}`);
    figures[url] = JSON.parse(JSON.stringify(r.body), (key, value) => (key === 'name' || key === 'asOf' ? undefined : value));
  }
  return figures;
}
