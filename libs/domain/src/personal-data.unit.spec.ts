import { schemaVersions } from './events';
import { ERASED, erasedFields, ERASURE_OF, PersonalFields, personalDataSubject, personalFieldsOf, personOfTask } from './personal-data';

describe('personal data (the one list of what is personal, and whose)', () => {
  it('seals identity fields under the customer or lead', () => {
    expect(personalDataSubject('CustomerRegistered', { customerId: 'c1', name: 'Ada', source: 'web' })).toBe('customer-c1');
    expect(personalDataSubject('CustomerProfileUpdated', { customerId: 'c1', region: 'EU' })).toBeUndefined(); // nothing personal in it
    expect(personalDataSubject('LeadCaptured', { leadId: 'l1', name: 'Grace', source: 'ads' })).toBe('lead-l1');
  });

  it('seals free text written about a customer or lead under their key', () => {
    expect(
      personalDataSubject('InteractionLogged', {
        customerId: 'c1',
        interactionId: 'i',
        type: 'call',
        direction: 'inbound',
        subject: 'Call Ada',
      }),
    ).toBe('customer-c1');
    expect(personalDataSubject('PurchaseRecorded', { customerId: 'c1', purchaseId: 'p', amount: 5, description: "Ada's order" })).toBe(
      'customer-c1',
    );
    expect(personalDataSubject('PurchaseRecorded', { customerId: 'c1', purchaseId: 'p', amount: 5 })).toBeUndefined();
    expect(personalDataSubject('LeadInteractionLogged', { leadId: 'l1', interactionId: 'i', type: 'call', subject: 'Grace called' })).toBe(
      'lead-l1',
    );
    expect(personalDataSubject('LeadInteractionLogged', { leadId: 'l1', interactionId: 'i', type: 'web-visit' })).toBeUndefined();
  });

  it("seals a task's subject and outcome under its customer, else its lead; a task about no one stays in clear", () => {
    const task = { taskId: 't', ownerId: 'u', subject: 'Call Ada', dueAt: '2024-01-01' };
    expect(personalDataSubject('TaskCreated', { ...task, customerId: 'c1', leadId: 'l1', dealId: 'd1' })).toBe('customer-c1');
    expect(personalDataSubject('TaskCreated', { ...task, leadId: 'l1' })).toBe('lead-l1');
    expect(personalDataSubject('TaskCreated', { ...task, dealId: 'd1' })).toBeUndefined();
    expect(personalDataSubject('TaskCompleted', { taskId: 't', outcome: 'done', customerId: 'c1' })).toBe('customer-c1');
    expect(personalDataSubject('TaskCompleted', { taskId: 't', outcome: 'done' })).toBeUndefined(); // older events: no person named
    // An edit's new subject is sealed like the first one; an edit of the due date alone holds no personal data.
    expect(personalFieldsOf('TaskUpdated')).toEqual(['subject']);
    expect(personalDataSubject('TaskUpdated', { taskId: 't', subject: 'Call Ada', leadId: 'l1' })).toBe('lead-l1');
    expect(personalDataSubject('TaskUpdated', { taskId: 't', dueAt: '2024-01-02', previousDueAt: '2024-01-01' })).toBeUndefined();
    expect(personOfTask({ customerId: null, leadId: 'l1' })).toBe('lead-l1');
  });

  it('seals only the fields listed for the type (a deal title, a churn reason stay in clear)', () => {
    expect(personalFieldsOf('InteractionLogged')).toEqual(['subject', 'outcome']);
    expect(personalFieldsOf('DealOpened')).toEqual([]);
    expect(personalFieldsOf('CustomerChurned')).toEqual([]);
    expect(personalDataSubject('DealOpened', { dealId: 'd', customerId: 'c1', title: "Ada's licence" })).toBeUndefined();
  });

  it('every personal field is carried by some event type, and every erasure event type exists', () => {
    const carried = new Set(Object.keys(schemaVersions).flatMap((type) => personalFieldsOf(type)));
    expect([...carried].sort()).toEqual([...PersonalFields].sort());
    for (const type of Object.keys(ERASURE_OF)) expect(schemaVersions).toHaveProperty(type);
  });

  it('erased, text reads as [erased] and attributes disappear; other fields are kept', () => {
    expect(erasedFields({ subject: 'Call Ada', outcome: 'ada@example.org', description: undefined, durationMinutes: 5 })).toEqual({
      subject: ERASED,
      outcome: ERASED,
      description: undefined,
      durationMinutes: 5,
    });
    expect(erasedFields({ name: 'Ada', attributes: { a: 1 }, phone: null })).toEqual({ name: ERASED, phone: null });
  });
});
