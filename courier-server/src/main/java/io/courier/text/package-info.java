/**
 * What counts as a name (an audience, a subject, a topic) and how strings become bytes without loss.
 * Two different names must never become one: not by a replacement character when encoding, not by a
 * database folding them. Any thread; everything here is stateless.
 */
package io.courier.text;
