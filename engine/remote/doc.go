// Package remote holds engines that call models served elsewhere over HTTP:
// Inception's Mercury FIM API ("inception") and OpenAI-style FIM servers
// ("openai"). They register themselves with package engine.
package remote
