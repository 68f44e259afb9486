/** Hoist's Java client: the producer API ({@code HoistClient}) and the worker runtime ({@code Worker}). */
package io.hoist.sdk;
