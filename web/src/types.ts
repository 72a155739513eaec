// The API's shapes (API.md "Shapes"; docs/openapi.yaml), as the app reads them.

export type Priority = "low" | "normal" | "urgent";

export interface PatientRef {
  id: string;
  firstName: string;
  lastName: string;
}

export interface Person {
  type: "staff" | "patient" | "system" | "sms" | "workgroup";
  id: string;
  displayName: string;
}

export interface Recipient {
  type: "staff" | "workgroup";
  id: string;
}

export interface Context {
  kind: string;
  id: string;
  label: string;
}

export interface Conversation {
  id: string;
  kind: "patient" | "team" | "broadcast" | "sms";
  subject: string;
  patient: PatientRef | null;
  participants?: Person[];
  assignees: Recipient[];
  context: Context | null;
  status: "open" | "closed";
  createdAt: string;
  lastMessageAt: string;
  messageCount: number;
  allowResponse: boolean;
  allowAttachments: boolean;
  /** SLA-2: when the practice promised a reply; null when none is owed. */
  replyDueAt?: string | null;
  /** The same instant on the practice's wall clock, with its offset. */
  replyDueLocal?: string;
  /** SLA-3, staff only. */
  replyOverdue?: boolean;
}

export interface Attachment {
  id: string;
  fileName: string;
  contentType: string;
  size: number;
  status: "pending" | "ready" | "rejected";
  createdAt: string;
}

export interface Message {
  id: string;
  conversationId: string;
  sender: Person;
  body: string;
  priority: Priority;
  internal: boolean;
  attachments: Attachment[];
  createdAt: string;
  status: string;
  /** CONV-2, staff only: each recipient's delivery and read state. */
  receipts?: Receipt[];
}

export interface Receipt {
  recipientId: string;
  status: "sent" | "delivered" | "read";
  at?: string;
}

export interface InboxItem {
  conversation: Conversation;
  preview: string;
  lastSender: Person;
  unreadCount: number;
  starred: boolean;
  archived: boolean;
  urgent: boolean;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface Stats {
  totalConversations: number;
  unreadMessages: number;
  uniquePatients: number;
  totalMessages: number;
}

export interface StaffMember {
  id: string;
  firstName: string;
  lastName: string;
  role: string;
}

export interface Workgroup {
  id: string;
  name: string;
  memberIds: string[];
}

export interface Upload {
  method: "PUT" | "POST";
  url: string;
  headers: Record<string, string>;
  fields: Record<string, string>;
  expiresAt: string;
}

export type Tab = "all" | "patient" | "team" | "broadcasts" | "starred" | "archived" | "practice";
