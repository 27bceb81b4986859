"""PyTorch training script: small ResNet + LSTM captioner head. No Keras here."""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


class BasicBlock(nn.Module):
    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Captioner(nn.Module):
    def __init__(self, vocab_size=1000, hidden=256):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1, bias=False),
            nn.BatchNorm2d(32),
            nn.ReLU(inplace=True),
            BasicBlock(32, 64, 2),
            BasicBlock(64, 128, 2),
            nn.AdaptiveAvgPool2d(1),
        )
        self.embed = nn.Embedding(vocab_size, hidden)
        self.lstm = nn.LSTM(hidden + 128, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab_size)

    def forward(self, images, tokens):
        feats = self.encoder(images).flatten(1)
        emb = self.embed(tokens)
        feats = feats.unsqueeze(1).expand(-1, emb.size(1), -1)
        out, _ = self.lstm(torch.cat([emb, feats], dim=-1))
        return self.fc(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--batch_size", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    args = parser.parse_args()

    images = torch.randn(64, 3, 32, 32)
    tokens = torch.randint(0, 1000, (64, 12))
    loader = DataLoader(TensorDataset(images, tokens), batch_size=args.batch_size, shuffle=True)

    model = Captioner()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    adam = torch.optim.Adam(model.parameters(), lr=0.01)
    del adam
    for epoch in range(args.epochs):
        for imgs, toks in loader:
            logits = model(imgs, toks[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), toks[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        print(epoch, loss.item())


if __name__ == "__main__":
    main()
