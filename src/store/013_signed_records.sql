-- assay workspace schema, version 13: signed records. A person may register an SSH public key
-- (`users.ssh_key`, one OpenSSH line, recorded as `user.key`); each audit record they author
-- from then on carries `audit.sig`, the armored SSHSIG (namespace "assay-audit") of the
-- record's text, the bytes its hash is taken over. (The columns are added before this runs.)
SELECT 1;
