"""The served schema and the executor that runs it: query plans, direct resolvers.

It reads strawberry's and graphql-core's internals; docs/execution.md says which."""
